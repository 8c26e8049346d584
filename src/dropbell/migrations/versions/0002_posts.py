"""posts: likes, reposts, bookmarks, shares; the timeline and repost indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 01:52:43.432756

A repost is a row in ``posts`` with ``reblog_of_id`` set, so posts and reposts
share one id sequence and the public timeline is a scan of ``ix_posts_timeline``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dropbell.db
import dropbell.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bookmarks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", dropbell.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_bookmarks_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_bookmarks_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookmarks")),
        sa.UniqueConstraint("account_id", "post_id", name=op.f("uq_bookmarks_account_id_post_id")),
    )
    with op.batch_alter_table("bookmarks", schema=None) as batch_op:
        batch_op.create_index("ix_bookmarks_account_id_id", ["account_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookmarks_post_id"), ["post_id"], unique=False)

    op.create_table(
        "likes",
        sa.Column("post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", dropbell.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_likes_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_likes_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "account_id", name=op.f("pk_likes")),
        sqlite_with_rowid=False,
    )

    op.create_table(
        "post_shares",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", dropbell.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_post_shares_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_shares_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_shares")),
    )
    with op.batch_alter_table("post_shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_shares_post_id"), ["post_id"], unique=False)

    # posts.reblog_of_id. SQLite cannot add a foreign key to an existing table
    # with ALTER, and batch mode would rebuild ``posts`` (whose rows other
    # tables reference, with foreign keys enforced): declare it inline instead.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE posts ADD COLUMN reblog_of_id INTEGER"
            " CONSTRAINT fk_posts_reblog_of_id_posts REFERENCES posts (id) ON DELETE CASCADE"
        )
    else:
        op.add_column(
            "posts",
            sa.Column(
                "reblog_of_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            ),
        )
        op.create_foreign_key(
            op.f("fk_posts_reblog_of_id_posts"),
            "posts",
            "posts",
            ["reblog_of_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_posts_timeline",
            ["id"],
            unique=False,
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.create_index(
            "uq_posts_reblog_of_id_author_id",
            ["reblog_of_id", "author_id"],
            unique=True,
            sqlite_where=sa.text("reblog_of_id IS NOT NULL"),
            postgresql_where=sa.text("reblog_of_id IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_posts_reblog_of_id_author_id",
            sqlite_where=sa.text("reblog_of_id IS NOT NULL"),
            postgresql_where=sa.text("reblog_of_id IS NOT NULL"),
        )
        batch_op.drop_index(
            "ix_posts_timeline",
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )
    # Reposts are rows of their own; without reblog_of_id they would read as empty posts.
    op.execute("DELETE FROM posts WHERE reblog_of_id IS NOT NULL")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_posts_reblog_of_id_posts"), "posts", type_="foreignkey")
    op.drop_column("posts", "reblog_of_id")  # SQLite 3.35+: ALTER TABLE ... DROP COLUMN

    with op.batch_alter_table("post_shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_shares_post_id"))
    op.drop_table("post_shares")
    op.drop_table("likes")
    with op.batch_alter_table("bookmarks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bookmarks_post_id"))
        batch_op.drop_index("ix_bookmarks_account_id_id")
    op.drop_table("bookmarks")
