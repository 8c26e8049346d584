"""brand follows: followers hear of a brand's new drops (drop_announced notices)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 14:00:00

``follows``: periods during which a shopper followed a brand (``ended_at`` set on
unfollow; following again begins a new period), like ``reminders``. A brand's new drop
writes ONE ``drop_announced`` notice (``notifications`` with ``account_id`` NULL,
``actor_id`` the brand); a follower sees it when a follow period covers its due time
(dropbell.notifications.audience). ``ix_notifications_notice_actor`` is what the inbox's
join through follows reads. New tables and an index: nothing to carry over.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dropbell.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, dropbell.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column("id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("brand_id", ID, nullable=False),
        _when("created_at"),
        _when("ended_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_follows_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["accounts.id"],
            name=op.f("fk_follows_brand_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follows")),
    )
    op.create_index(
        "ix_follows_account_id_brand_id",
        "follows",
        ["account_id", "brand_id"],
        postgresql_include=["created_at", "ended_at"],
    )
    op.create_index("ix_follows_brand_id_account_id", "follows", ["brand_id", "account_id"])
    op.create_index(
        "uq_follows_open",
        "follows",
        ["brand_id", "account_id"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_index(
        "ix_notifications_notice_actor",
        "notifications",
        ["actor_id", "id"],
        sqlite_where=sa.text("account_id IS NULL"),
        postgresql_where=sa.text("account_id IS NULL"),
        postgresql_include=["type", "due_at"],
    )


def downgrade() -> None:
    # The announcements go with the follows that made them visible: code before 0010 knows
    # no drop_announced notice (nor could it show one to anybody).
    announced = "SELECT id FROM notifications WHERE type = 'drop_announced'"
    op.execute(f"DELETE FROM notice_reads WHERE notification_id IN ({announced})")
    op.execute(f"DELETE FROM push_deliveries WHERE notification_id IN ({announced})")
    op.execute(f"DELETE FROM push_jobs WHERE notification_id IN ({announced})")
    op.execute("DELETE FROM notifications WHERE type = 'drop_announced'")
    op.drop_index("ix_notifications_notice_actor", table_name="notifications")
    op.drop_index("uq_follows_open", table_name="follows")
    op.drop_index("ix_follows_brand_id_account_id", table_name="follows")
    op.drop_index("ix_follows_account_id_brand_id", table_name="follows")
    op.drop_table("follows")
