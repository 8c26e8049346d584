"""The SQLite connection (dropbell.sqlite_driver): one thread hop a statement, and still
everything SQLAlchemy relies on — rows in order, row counts, ids, errors that leave the
connection usable, and transactions that roll back and commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from dropbell import sqlite_driver
from dropbell.db import make_engine, reading

pytestmark = pytest.mark.anyio


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every call handed to a connection's thread."""
    seen: list[Any] = []
    real = sqlite_driver.OneHopConnection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(fn)
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(sqlite_driver.OneHopConnection, "_execute", counted)
    return seen


async def test_rows_counts_and_ids_come_back(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        inserted = await conn.execute(
            text("INSERT INTO t (name) VALUES (:name)"), [{"name": n} for n in "abc"]
        )
        assert inserted.rowcount == 3
        one = await conn.execute(text("INSERT INTO t (name) VALUES ('d')"))
        assert one.lastrowid == 4
        updated = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 2"))
        assert updated.rowcount == 2
        rows = (await conn.execute(text("SELECT id, name FROM t ORDER BY id DESC"))).all()
    assert [tuple(row) for row in rows] == [(4, "d!"), (3, "c!"), (2, "b"), (1, "a")]


async def test_a_failed_statement_raises_and_the_connection_goes_on(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        await conn.commit()
        with pytest.raises(IntegrityError):
            await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        await conn.rollback()
        assert await conn.scalar(text("SELECT count(*) FROM t")) == 1


async def test_a_rolled_back_transaction_leaves_nothing(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('kept')"))
        await conn.commit()
        await conn.execute(text("INSERT INTO t (name) VALUES ('undone')"))
        await conn.rollback()
    async with engine.connect() as conn:
        names = (await conn.scalars(text("SELECT name FROM t"))).all()
    assert names == ["kept"]


async def test_a_read_is_one_hop_and_returning_its_connection_none(
    engine: AsyncEngine, hops: list[Any]
) -> None:
    async with engine.connect() as conn:  # opened (and tuned) before counting
        await conn.scalar(text("SELECT 1"))
    reads = reading(engine)
    hops.clear()
    async with reads.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0
    assert len(hops) == 1  # no cursor, fetch, close or rollback of its own
