"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from dropbell.db import make_engine
from dropbell.models import Base

pytestmark = pytest.mark.anyio


async def test_models_and_migrations_agree(database_url: str) -> None:
    engine = make_engine(database_url)

    def diff(connection: Connection) -> list[object]:
        ctx = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))

    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()
