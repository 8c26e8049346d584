"""brand images uploaded to dropbell (media) and regional drops (drops.countries)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 14:00:00

Reserved in the chain; filled in by the change that needs it.
"""

from __future__ import annotations

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
