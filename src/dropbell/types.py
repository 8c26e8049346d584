"""Column types shared by every domain's models."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from sqlalchemy import BigInteger, Integer

# BIGINT on PostgreSQL; on SQLite an INTEGER PRIMARY KEY is the rowid (autoincrement).
BigId = BigInteger().with_variant(Integer(), "sqlite")

MAX_ID = 2**63 - 1

# An id in a URL path: anything else (0, negative, past 64 bits) is a 422, never a 500.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="An id.")]
