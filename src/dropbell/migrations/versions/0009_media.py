"""brand images uploaded to dropbell (media) and regional drops (drops.countries)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 14:00:00

``media``: an image a brand uploaded, as stored (its renditions' sizes, the files' key).
``drops.media_id``: the drop's uploaded image, if it has one; a plain id, not a foreign
key, because SQLite can add or drop a foreign key only by rebuilding ``drops``, and
rebuilding it drops the old table and with it its ON DELETE CASCADE children (the media
service checks the id is the brand's own upload). ``drops.countries``: where the drop is
sold, ISO codes joined by commas ("AE,SA"), NULL for everywhere: drops already there stay
sold everywhere. New nullable columns and a new table: no table rebuild on SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dropbell.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("id", ID, nullable=False),
        sa.Column("brand_id", ID, nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("source_format", sa.String(length=4), nullable=False),
        sa.Column("source_bytes", sa.Integer(), nullable=False),
        sa.Column("fallback", sa.String(length=4), nullable=False),
        sa.Column("sizes", sa.String(length=200), nullable=False),
        sa.Column("stored_bytes", sa.Integer(), nullable=False),
        sa.Column("created_at", dropbell.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["accounts.id"],
            name=op.f("fk_media_brand_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
        sa.UniqueConstraint("key", name=op.f("uq_media_key")),
    )
    op.create_index(op.f("ix_media_brand_id"), "media", ["brand_id"], unique=False)
    op.add_column("drops", sa.Column("media_id", ID, nullable=True))
    op.add_column("drops", sa.Column("countries", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), never a batch copy of ``drops`` (see above). The
    # image files stay in the media directory; nothing points at them any more.
    op.drop_column("drops", "countries")
    op.drop_column("drops", "media_id")
    op.drop_index(op.f("ix_media_brand_id"), table_name="media")
    op.drop_table("media")
