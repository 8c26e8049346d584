"""analytics worth reading (shopper-level funnel and sources)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 14:00:00

Reserved in the chain; filled in by the change that needs it.
"""

from __future__ import annotations

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
