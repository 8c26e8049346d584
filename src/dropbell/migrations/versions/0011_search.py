"""search over drops, brands and hashtags (FTS5 on SQLite, trigram/tsvector on PostgreSQL)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 14:00:00

The search index (``dropbell.search``): ``post_search``, ``drop_search`` and
``account_search`` hold the plain-form words (``search.text.document``) of each live
post (not reposts, not drops' announcements), each drop not cancelled and each partner
brand; ``hashtags`` each tag in use with its plain form and how many posts carry it.

Full text, over ``search_text``: on SQLite an FTS5 table per index with the index's
table as external content, kept in step by triggers; on PostgreSQL a stored generated
column ``search_vector`` (``to_tsvector('simple', search_text)``) with a GIN index (no
extension needed: the text is folded in Python, so ``unaccent`` and ``pg_trgm`` are not
used).

Filled here from the rows already there, folded with this ``search.text``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from dropbell.search.text import document, fold

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEXES = {"post_search": "post_id", "drop_search": "drop_id", "account_search": "account_id"}
PARENTS = {"post_search": "posts", "drop_search": "drops", "account_search": "accounts"}
BATCH = 5_000


def _sqlite_fts(table: str, key: str) -> list[str]:
    fts = f"{table}_fts"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, content='{table}',"
        f" content_rowid='{key}', tokenize='unicode61 remove_diacritics 0')",
        f"CREATE TRIGGER {table}_ai AFTER INSERT ON {table} BEGIN"
        f" INSERT INTO {fts} (rowid, search_text) VALUES (new.{key}, new.search_text); END",
        f"CREATE TRIGGER {table}_ad AFTER DELETE ON {table} BEGIN"
        f" INSERT INTO {fts} ({fts}, rowid, search_text)"
        f" VALUES ('delete', old.{key}, old.search_text); END",
        f"CREATE TRIGGER {table}_au AFTER UPDATE ON {table} BEGIN"
        f" INSERT INTO {fts} ({fts}, rowid, search_text)"
        f" VALUES ('delete', old.{key}, old.search_text);"
        f" INSERT INTO {fts} (rowid, search_text) VALUES (new.{key}, new.search_text); END",
    ]


def _create_tables() -> None:
    for table, key in INDEXES.items():
        op.create_table(
            table,
            sa.Column(key, sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
            sa.Column("search_text", sa.Text(), nullable=False),
            sa.ForeignKeyConstraint(
                [key],
                [f"{PARENTS[table]}.id"],
                name=f"fk_{table}_{key}_{PARENTS[table]}",
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint(key, name=f"pk_{table}"),
        )
    op.create_table(
        "hashtags",
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.Column("search_text", sa.String(length=400), nullable=False),
        sa.Column("post_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tag", name="pk_hashtags"),
    )
    op.create_index(
        "ix_hashtags_search_text",
        "hashtags",
        ["search_text"],
        postgresql_ops={"search_text": "text_pattern_ops"},
    )


def _batches(conn: Any, query: sa.Select[Any], key: Any) -> Iterator[list[Any]]:
    """The rows of ``query`` in batches, by ascending ``key`` (keyset: no OFFSET)."""
    last = None
    while True:
        page = query.order_by(key).limit(BATCH)
        if last is not None:
            page = page.where(key > last)
        rows = conn.execute(page).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _backfill(conn: Any) -> None:
    posts = sa.table("posts", sa.column("id"), sa.column("text"), sa.column("deleted_at"))
    reposts = sa.table("reposts", sa.column("post_id"))
    drops = sa.table(
        "drops",
        sa.column("id"),
        sa.column("post_id"),
        sa.column("title"),
        sa.column("description"),
        sa.column("tag"),
        sa.column("cancelled_at"),
    )
    accounts = sa.table(
        "accounts",
        sa.column("id"),
        sa.column("username"),
        sa.column("display_name"),
        sa.column("is_partner"),
    )
    live_posts = sa.select(posts.c.id, posts.c.text).where(
        posts.c.deleted_at.is_(None),
        posts.c.text != "",
        ~sa.exists().where(reposts.c.post_id == posts.c.id),
        ~sa.exists().where(drops.c.post_id == posts.c.id),
    )
    target = sa.table("post_search", sa.column("post_id"), sa.column("search_text"))
    for rows in _batches(conn, live_posts, posts.c.id):
        conn.execute(target.insert(), [{"post_id": i, "search_text": document(t)} for i, t in rows])
    open_drops = sa.select(drops.c.id, drops.c.title, drops.c.description, drops.c.tag).where(
        drops.c.cancelled_at.is_(None)
    )
    target = sa.table("drop_search", sa.column("drop_id"), sa.column("search_text"))
    for rows in _batches(conn, open_drops, drops.c.id):
        conn.execute(
            target.insert(),
            [{"drop_id": i, "search_text": document(t, d or "", g)} for i, t, d, g in rows],
        )
    partners = sa.select(accounts.c.id, accounts.c.username, accounts.c.display_name).where(
        accounts.c.is_partner == sa.true()
    )
    target = sa.table("account_search", sa.column("account_id"), sa.column("search_text"))
    for rows in _batches(conn, partners, accounts.c.id):
        conn.execute(
            target.insert(), [{"account_id": i, "search_text": document(u, n)} for i, u, n in rows]
        )
    _backfill_hashtags(conn)


def _backfill_hashtags(conn: Any) -> None:
    """Every tag a live post carries (a deleted post's tags are deleted with it)."""
    post_tags = sa.table("post_tags", sa.column("tag"), sa.column("post_id"))
    counts = sa.select(post_tags.c.tag, sa.func.count()).group_by(post_tags.c.tag)
    target = sa.table(
        "hashtags", sa.column("tag"), sa.column("search_text"), sa.column("post_count")
    )
    for rows in _batches(conn, counts, post_tags.c.tag):
        conn.execute(
            target.insert(),
            [{"tag": t, "search_text": fold(t), "post_count": n} for t, n in rows],
        )


def upgrade() -> None:
    _create_tables()
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    for table, key in INDEXES.items():
        if sqlite:
            for statement in _sqlite_fts(table, key):
                op.execute(statement)
        else:
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS"
                " (to_tsvector('simple'::regconfig, search_text)) STORED"
            )
    _backfill(conn)
    if not sqlite:
        for table in INDEXES:
            op.execute(f"CREATE INDEX ix_{table}_fts ON {table} USING gin (search_vector)")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in INDEXES:
        if sqlite:
            for trigger in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER {table}_{trigger}")
            op.execute(f"DROP TABLE {table}_fts")
        else:
            op.execute(f"DROP INDEX ix_{table}_fts")
    op.drop_index("ix_hashtags_search_text", table_name="hashtags")
    op.drop_table("hashtags")
    for table in INDEXES:
        op.drop_table(table)
