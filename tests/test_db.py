"""The connection pool: a connection that died while idle is replaced before anyone uses
it, and a busy one is not pinged before every request."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from dropbell.db import make_engine

# PostgreSQL only (SQLite has no server connection to lose): collected for it alone.
pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("template_url", ["postgresql"], indirect=True),
]


@pytest.fixture
def postgres_url(database_url: str) -> str:
    return database_url


async def test_a_pooled_connection_that_died_while_idle_is_replaced(postgres_url: str) -> None:
    engine = make_engine(postgres_url, pool_size=1, max_overflow=0, ping_idle_seconds=0)
    admin = make_engine(postgres_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        async with admin.connect() as conn:  # the server ends it, as a restart would
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        await engine.dispose()
        await admin.dispose()


@pytest.mark.parametrize(("idle_seconds", "pings"), [(3600, 0), (0, 4)])
async def test_only_a_connection_idle_for_a_while_is_pinged(
    postgres_url: str, idle_seconds: float, pings: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(postgres_url, pool_size=1, max_overflow=0, ping_idle_seconds=idle_seconds)
    seen: list[Any] = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(
        engine.dialect, "do_ping", lambda conn: seen.append(conn) or real_ping(conn)
    )
    try:
        for _ in range(5):  # the first checkout opens the connection: nothing to ping
            async with engine.connect() as conn:
                assert await conn.scalar(text("SELECT 1")) == 1
        assert len(seen) == pings
    finally:
        await engine.dispose()
