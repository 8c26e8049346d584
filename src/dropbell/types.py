"""Column types shared by every domain's models."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer

# BIGINT on PostgreSQL; on SQLite an INTEGER PRIMARY KEY is the rowid (autoincrement).
BigId = BigInteger().with_variant(Integer(), "sqlite")
