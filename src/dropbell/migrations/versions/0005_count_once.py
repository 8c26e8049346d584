"""count once: shop clicks and shares count each viewer once per hour

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 10:00:00

``shop_clicks.once_key`` and ``post_shares.once_key``: a hash of the viewer and the clock
hour (``dropbell.counting``), unique per drop (per post), so a second tap in the same hour
inserts nothing. Rows already there keep a NULL key (NULLs never collide) and stay
counted as they were. A new nullable column and an index: no table rebuild on SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("shop_clicks", sa.Column("once_key", sa.String(length=64), nullable=True))
    op.create_index("ix_shop_clicks_once", "shop_clicks", ["drop_id", "once_key"], unique=True)
    op.add_column("post_shares", sa.Column("once_key", sa.String(length=64), nullable=True))
    op.create_index("ix_post_shares_once", "post_shares", ["post_id", "once_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_post_shares_once", table_name="post_shares")
    with op.batch_alter_table("post_shares") as batch_op:
        batch_op.drop_column("once_key")
    op.drop_index("ix_shop_clicks_once", table_name="shop_clicks")
    with op.batch_alter_table("shop_clicks") as batch_op:
        batch_op.drop_column("once_key")
