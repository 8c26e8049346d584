"""The one place that picks SQLite's or PostgreSQL's flavour of INSERT ... ON CONFLICT."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert(session: AsyncSession, table: Any) -> Any:
    """``INSERT`` with ``on_conflict_do_nothing`` for the session's database."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def per_database(build: Callable[[Callable[[Any], Any]], Any]) -> dict[str, Any]:
    """A statement built once for each database, from that database's ``insert``: for hot
    paths, where building the statement anew each time costs more than running it."""
    return {"postgresql": build(postgresql.insert), "sqlite": build(sqlite.insert)}


def pick(session: AsyncSession, statements: dict[str, Any]) -> Any:
    """The session's database's statement from :func:`per_database`."""
    return statements[session.get_bind().dialect.name]
