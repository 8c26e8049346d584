"""image alt text: brands describe their drop's image

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:45:00

``drops.image_alt``: the image's alt text as the brand writes it, shown as the image's
``alt`` wherever the drop is. Drops already there get "" (no description yet). A new
column with a default: no table rebuild on SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "drops",
        sa.Column("image_alt", sa.String(length=300), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("drops", "image_alt")
