"""confusable skeletons: what drop tags and partner names look like (Unicode TR39)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10 12:00:00

``drops.tag_skeleton``: the TR39 skeleton of the drop's hashtag; a new tag with the
skeleton of another drop's (``\u0430urellebag`` with a Cyrillic ``\u0430``) is refused.
``accounts.name_skeleton``, ``name_skeleton_cased`` and ``username_skeleton``: a
partner's display name (two skeletons: case-folded first, and as written first) and
username as they look (NULL for everyone else); nobody may take a display name that
looks like one of them. Each indexed, not unique: drops already there may share a
skeleton (they stay). Filled here for every drop and partner, with the skeletons of the
ICU this runs with. New nullable columns: no table rebuild on SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dropbell.confusables import name_skeletons, skeleton

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


ACCOUNT_COLUMNS = ("name_skeleton", "name_skeleton_cased", "username_skeleton")


def upgrade() -> None:
    op.add_column("drops", sa.Column("tag_skeleton", sa.String(length=1000), nullable=True))
    op.create_index("ix_drops_tag_skeleton", "drops", ["tag_skeleton"])
    for column in ACCOUNT_COLUMNS:
        op.add_column("accounts", sa.Column(column, sa.String(length=1000), nullable=True))
        op.create_index(f"ix_accounts_{column}", "accounts", [column])

    conn = op.get_bind()
    drops = sa.table("drops", sa.column("id"), sa.column("tag"), sa.column("tag_skeleton"))
    rows = conn.execute(sa.select(drops.c.id, drops.c.tag)).all()
    if rows:
        conn.execute(
            drops.update()
            .where(drops.c.id == sa.bindparam("drop_id"))
            .values(tag_skeleton=sa.bindparam("skel")),
            [{"drop_id": id_, "skel": skeleton(tag)} for id_, tag in rows],
        )
    accounts = sa.table(
        "accounts",
        sa.column("id"),
        sa.column("username"),
        sa.column("display_name"),
        sa.column("is_partner"),
        *(sa.column(column) for column in ACCOUNT_COLUMNS),
    )
    partners = conn.execute(
        sa.select(accounts.c.id, accounts.c.username, accounts.c.display_name).where(
            accounts.c.is_partner == sa.true()
        )
    ).all()
    if partners:
        conn.execute(
            accounts.update()
            .where(accounts.c.id == sa.bindparam("account_id"))
            .values({column: sa.bindparam(f"p_{column}") for column in ACCOUNT_COLUMNS}),
            [
                {
                    "account_id": id_,
                    "p_name_skeleton": name_skeletons(name)[0],
                    "p_name_skeleton_cased": name_skeletons(name)[1],
                    "p_username_skeleton": name_skeletons(user)[0],
                }
                for id_, user, name in partners
            ],
        )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), never a batch copy: rebuilding ``accounts`` or
    # ``drops`` on SQLite would drop the old table, and its ON DELETE CASCADE children.
    for column in ACCOUNT_COLUMNS:
        op.drop_index(f"ix_accounts_{column}", table_name="accounts")
        op.drop_column("accounts", column)
    op.drop_index("ix_drops_tag_skeleton", table_name="drops")
    op.drop_column("drops", "tag_skeleton")
