"""token last use: tokens and web sessions expire after an idle time

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10 10:00:00

``access_tokens.last_used_at``: when the token was last used, written at most once an hour
(``accounts.service.TOKEN_TOUCH_SECONDS``). A token unused for DROPBELL_TOKEN_IDLE_DAYS
is refused. Tokens already there keep NULL, which counts from when they were issued. A
new nullable column: no table rebuild on SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dropbell.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "access_tokens",
        sa.Column("last_used_at", dropbell.db.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+ has it), not a batch rebuild: rebuilding
    # access_tokens would cascade into push_subscriptions, which reference it.
    op.drop_column("access_tokens", "last_used_at")
