"""The one place that picks SQLite's or PostgreSQL's flavour of a statement (INSERT ...
ON CONFLICT), or tells which database a session is on."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def name(session: AsyncSession) -> str:
    """The session's database: ``"sqlite"`` or ``"postgresql"``."""
    return session.get_bind().dialect.name


def insert(session: AsyncSession, table: Any) -> Any:
    """``INSERT`` with ``on_conflict_do_nothing`` for the session's database."""
    return postgresql.insert(table) if is_postgres(session) else sqlite.insert(table)


def is_postgres(session: AsyncSession) -> bool:
    return name(session) == "postgresql"
