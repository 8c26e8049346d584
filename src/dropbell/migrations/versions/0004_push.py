"""push: VAPID keys, push subscriptions, push jobs and the delivery ledger

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 21:10:42

New tables only: nothing here alters an existing table, so SQLite needs no
table rebuild. ``push_deliveries.subscription_id`` has no foreign key: a ledger
row outlives the subscription a push service told us to remove (the drop's
stats count those).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dropbell.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, dropbell.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "push_keys",
        sa.Column("id", ID, nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column("public_key", sa.String(length=100), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=True),
        _when("created_at"),
        _when("retired_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_keys")),
        sa.UniqueConstraint("current", name=op.f("uq_push_keys_current")),
    )
    op.create_table(
        "push_subscriptions",
        sa.Column("id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("access_token_id", ID, nullable=False),
        sa.Column("endpoint", sa.String(length=2000), nullable=False),
        sa.Column("p256dh", sa.String(length=100), nullable=False),
        sa.Column("auth", sa.String(length=32), nullable=False),
        sa.Column("alerts", sa.JSON(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        sa.ForeignKeyConstraint(
            ["access_token_id"],
            ["access_tokens.id"],
            name=op.f("fk_push_subscriptions_access_token_id_access_tokens"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_push_subscriptions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscriptions")),
        sa.UniqueConstraint("access_token_id", name=op.f("uq_push_subscriptions_access_token_id")),
    )
    with op.batch_alter_table("push_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_push_subscriptions_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "push_jobs",
        sa.Column("id", ID, nullable=False),
        sa.Column("notification_id", ID, nullable=False),
        sa.Column("drop_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("cursor", ID, nullable=False),
        sa.Column("fanned_out", sa.Boolean(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        _when("lease_until", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("due_at"),
        _when("wake_at"),
        _when("expires_at"),
        _when("created_at"),
        _when("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_jobs")),
        sa.UniqueConstraint("notification_id", name=op.f("uq_push_jobs_notification_id")),
    )
    with op.batch_alter_table("push_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_push_jobs_drop_id"), ["drop_id"], unique=False)
        batch_op.create_index("ix_push_jobs_state_wake_at", ["state", "wake_at"], unique=False)

    op.create_table(
        "push_deliveries",
        sa.Column("id", ID, nullable=False),
        sa.Column("subscription_id", ID, nullable=False),
        sa.Column("notification_id", ID, nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("next_at", nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        _when("sent_at", nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("lateness_ms", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_deliveries")),
        sa.UniqueConstraint(
            "subscription_id",
            "notification_id",
            name=op.f("uq_push_deliveries_subscription_id_notification_id"),
        ),
    )
    with op.batch_alter_table("push_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_push_deliveries_notification_id_state",
            ["notification_id", "state"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("push_deliveries")
    op.drop_table("push_jobs")
    op.drop_table("push_subscriptions")
    op.drop_table("push_keys")
