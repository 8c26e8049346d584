"""The databases' own full-text indexes over ``search_text``, and how to ask them.

SQLite: an FTS5 table per index, ``<table>_fts``, with the index's table as its
external content (``content_rowid`` the key), so the words are stored once; three
triggers keep it in step with every INSERT, UPDATE and DELETE of the table (a cascade
from a deleted post too), in the same transaction. The tokenizer is ``unicode61`` with
its own diacritic removal off: the text is already folded (``search.text``).

PostgreSQL: a stored generated column ``search_vector`` (``to_tsvector('simple',
search_text)``, made by the database on every write) with a GIN index: the ``simple``
configuration keeps every word as it is (no stemming, no stop words), so it matches
exactly what ``search.text`` folded; stored, a row is tested without parsing its text.

A query is the words of the question, all of them required, the last one maybe as a
prefix (for names and tags); the matches come newest (highest key) first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dropbell import dialect

# Each index's table and its key column.
INDEXES = {"post_search": "post_id", "drop_search": "drop_id", "account_search": "account_id"}
# What SQLite's FTS5 makes beside a table (the model cannot describe them).
_FTS5_SUFFIXES = ("_fts", "_fts_data", "_fts_idx", "_fts_docsize", "_fts_config")


def database_own(name: str | None) -> bool:
    """True for a table or index the full-text machinery made, that no model describes."""
    if name is None:
        return False
    sqlite_tables = {f"{table}{suffix}" for table in INDEXES for suffix in _FTS5_SUFFIXES}
    postgres_indexes = {f"ix_{table}_fts" for table in INDEXES}
    return name in sqlite_tables | postgres_indexes


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
    """Alembic's ``include_object`` for comparing the models with a database: leave out
    the full-text tables and indexes (``database_own``) and PostgreSQL's generated
    ``search_vector`` columns, which the migrations make and the models cannot describe
    (an FTS5 virtual table; a column only one of the databases has)."""
    if not reflected:
        return True
    if type_ == "column" and name == VECTOR:
        return obj.table.name not in INDEXES
    return not (type_ in ("table", "index") and database_own(name))


VECTOR = "search_vector"  # PostgreSQL's column of each index's table


def postgres_index(table: str) -> str:
    """The GIN index of ``table`` on PostgreSQL (as migration 0011 makes it)."""
    return f"CREATE INDEX ix_{table}_fts ON {table} USING gin ({VECTOR})"


def _fts5_query(words: list[str], prefix: bool) -> str:
    """``"w1" "w2"*``: every word (a phrase each, so FTS5 splits it as it split the text)."""
    parts = [f'"{w}"' for w in words]
    if prefix:
        parts[-1] += "*"
    return " ".join(parts)


def _tsquery(words: list[str], prefix: bool) -> str:
    """``'w1' & 'w2':*`` (words are letters, digits and marks: nothing to escape)."""
    parts = [f"'{w}'" for w in words]
    if prefix:
        parts[-1] += ":*"
    return " & ".join(parts)


async def matching(
    session: AsyncSession, table: str, words: list[str], limit: int, *, prefix: bool = False
) -> list[int]:
    """The keys of ``table`` (one of :data:`INDEXES`) whose text has every word of
    ``words`` (the last as a prefix if ``prefix``), highest key first, at most ``limit``."""
    if not words:
        return []
    if dialect.is_postgres(session):
        return await _postgres_matching(session, table, _tsquery(words, prefix), limit)
    sql = f"SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH :m ORDER BY rowid DESC LIMIT :n"
    rows = await session.execute(text(sql), {"m": _fts5_query(words, prefix), "n": limit})
    return [int(key) for (key,) in rows]


# PostgreSQL: how many of the newest rows the first look reads, per row asked for.
RECENT_PER_ROW = 200
# The tables that are looked at newest rows first: the posts. Drops and brands are few
# next to them (a thousandth), so the GIN index alone answers at once, and a first look
# would test all their rows.
RECENT_FIRST = {"post_search"}
_MATCHES = f"{VECTOR} @@ to_tsquery('simple'::regconfig, :m)"


async def _postgres_matching(session: AsyncSession, table: str, m: str, limit: int) -> list[int]:
    """Newest first in two looks, so that no planner estimate can make it slow.

    "The newest 10 matches" tempts the planner to walk the primary key backwards and
    test each row: quick for a common word, a scan of the whole table for a rare one
    whose frequency it overestimates (2.8 s at a million posts, measured). So: first the
    newest ``RECENT_PER_ROW * limit`` rows alone (a bounded walk, where a common word is
    found); if they hold fewer than ``limit`` matches, the GIN index finds every match
    and the newest are kept (``key + 0``: no index order to walk), which is cheap since
    the word is too rare to fill the recent rows. Either way: exactly the newest matches.
    """
    key = INDEXES[table]
    if table not in RECENT_FIRST:
        return await _every_match(session, table, m, limit)
    recent = await session.execute(
        text(
            f"SELECT {key} FROM (SELECT {key}, {VECTOR} FROM {table} ORDER BY {key} DESC"
            f" LIMIT :window) AS recent WHERE {_MATCHES} ORDER BY {key} DESC LIMIT :n"
        ),
        {"m": m, "n": limit, "window": RECENT_PER_ROW * limit},
    )
    found = [int(k) for (k,) in recent]
    if len(found) == limit:
        return found
    return await _every_match(session, table, m, limit)


async def _every_match(session: AsyncSession, table: str, m: str, limit: int) -> list[int]:
    """Every match from the GIN index, the newest ``limit`` kept (``key + 0``: the planner
    has no index order to walk instead)."""
    key = INDEXES[table]
    every = await session.execute(
        text(f"SELECT {key} FROM {table} WHERE {_MATCHES} ORDER BY {key} + 0 DESC LIMIT :n"),
        {"m": m, "n": limit},
    )
    return [int(k) for (k,) in every]
