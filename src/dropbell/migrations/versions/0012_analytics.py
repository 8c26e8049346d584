"""analytics worth reading (shopper-level funnel and sources)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 14:00:00

``drop_visits``: who opened a drop's page, and from where (a notification, a push, a
post, a tag page, the page itself), one row per drop, source and visitor — the brand's
opens by source, and the push opens the funnel's "opened" lacked (``drop_opens`` has
only the inbox's). ``shop_clicks.visitor_key``: the clicker's key for good (``once_key``
changes every hour), so the funnel counts each shopper or visitor once. Clicks already
there keep a NULL key and are counted by what they have: their account, else their
hour's key (see ``dropbell.drops.analytics``). A new table and a nullable column: no
table rebuild on SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dropbell.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = dropbell.db.UTCDateTime()


def upgrade() -> None:
    op.add_column("shop_clicks", sa.Column("visitor_key", sa.String(length=64), nullable=True))
    op.create_table(
        "drop_visits",
        sa.Column("id", BigId, nullable=False),
        sa.Column("drop_id", BigId, nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("account_id", BigId, nullable=True),
        sa.Column("visitor_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_drop_visits_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["drop_id"], ["drops.id"], name=op.f("fk_drop_visits_drop_id_drops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drop_visits")),
    )
    op.create_index(
        "uq_drop_visits_once", "drop_visits", ["drop_id", "source", "visitor_key"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_drop_visits_once", table_name="drop_visits")
    op.drop_table("drop_visits")
    with op.batch_alter_table("shop_clicks") as batch_op:
        batch_op.drop_column("visitor_key")
