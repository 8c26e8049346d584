"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from dropbell.db import make_engine
from dropbell.models import Base
from dropbell.search import fts

pytestmark = pytest.mark.anyio


async def test_models_and_migrations_agree(database_url: str) -> None:
    engine = make_engine(database_url)

    def diff(connection: Connection) -> list[object]:
        # The full-text tables and indexes (an FTS5 virtual table and its shadow tables on
        # SQLite, an expression GIN index on PostgreSQL) are the migrations' own: no model
        # can describe them, so the comparison leaves them out (fts.include_object, as
        # migrations/env.py does). tests/search/test_search.py checks that they work.
        opts = {"compare_type": True, "include_object": fts.include_object}
        ctx = MigrationContext.configure(connection, opts=opts)
        return list(compare_metadata(ctx, Base.metadata))

    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()
