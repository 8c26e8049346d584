"""Partial indexes, declared once for both databases the app runs on."""

from __future__ import annotations

from sqlalchemy import Index, text


def partial_index(
    name: str,
    *columns: str,
    where: str,
    unique: bool = False,
    postgresql_include: list[str] | None = None,
) -> Index:
    """An index of the rows for which ``where`` (SQL) holds, on SQLite and PostgreSQL
    alike; ``postgresql_include``: the columns a PostgreSQL index also carries."""
    clause = text(where)
    return Index(
        name,
        *columns,
        unique=unique,
        sqlite_where=clause,
        postgresql_where=clause,
        postgresql_include=postgresql_include or [],
    )
