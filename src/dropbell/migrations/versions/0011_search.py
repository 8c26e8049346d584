"""search over drops, brands and hashtags (FTS5 on SQLite, trigram/tsvector on PostgreSQL)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 14:00:00

Reserved in the chain; filled in by the change that needs it.
"""

from __future__ import annotations

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
