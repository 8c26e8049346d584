"""Migration 0012 (analytics: ``drop_visits``, ``shop_clicks.visitor_key``): clicks already
there keep counting, a shopper's by their account (once in the funnel however many hours
they clicked in), a visitor's by the key of their hour (docs/api.md, "Stats"); clicks
after it count each visitor once for good; and the migration goes back down cleanly."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from dropbell.app import create_app
from dropbell.clock import FakeClock
from dropbell.config import Settings
from dropbell.migrate import alembic_config, upgrade
from tests.conftest import START
from tests.test_migration_0007 import BRAND, _columns, _fill_before, _when

pytestmark = pytest.mark.anyio

BEFORE = "0011"  # the head before 0012


async def _clicks_before(engine: AsyncEngine) -> None:
    """Maya clicked in two hours; a visitor without an account in two hours; one click
    from before migration 0005 (no key at all)."""
    rows = [
        (2, "notification", "2030-01-02 12:05", "'k-maya-12'"),
        (2, "notification", "2030-01-02 13:05", "'k-maya-13'"),
        (None, "tag", "2030-01-02 12:10", "'k-visitor-12'"),
        (None, "tag", "2030-01-02 13:10", "'k-visitor-13'"),
        (None, "post", "2029-12-31 12:00", "NULL"),
    ]
    async with engine.begin() as conn:
        for account, source, at, key in rows:
            await conn.execute(
                text(
                    "INSERT INTO shop_clicks (drop_id, account_id, source, created_at, once_key)"
                    f" VALUES (1, :account, :source, :at, {key})"
                ),
                {"account": account, "source": source, "at": _when(engine, at)},
            )


async def _stats(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.get("/api/v1/drops/1/stats", headers=BRAND)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_old_clicks_keep_counting_and_new_ones_count_each_visitor_once(
    scratch_engine: AsyncEngine,
) -> None:
    await upgrade(scratch_engine, BEFORE)
    await _fill_before(scratch_engine)
    await _clicks_before(scratch_engine)
    await upgrade(scratch_engine)
    assert "visitor_key" in await _columns(scratch_engine, "shop_clicks")
    url = scratch_engine.url.render_as_string(hide_password=False)
    clock = FakeClock(START + timedelta(days=1, hours=2))  # the drop is live
    app = create_app(Settings(database_url=url, public_url="http://dropbell.test"), clock)
    visitor = httpx.ASGITransport(app=app, client=("198.51.100.9", 50000))
    try:
        async with httpx.AsyncClient(transport=visitor, base_url="http://dropbell.test") as c:
            stats = await _stats(c)
            assert stats["funnel"] == {
                "reminded": 0,
                "told": 0,
                "opened": 0,
                "clicked": 1,  # Maya, in two hours
                "clicked_anonymous": 3,  # by their hour's key: the visitor twice, and one
            }
            assert stats["shop_clicks"]["total"] == 5  # as counted before
            assert stats["sources"]["tag"] == {"opens": 0, "clicks": 2}
            for _ in range(2):  # a new visitor in two hours: once
                r = await c.get("/drops/1/shop", params={"source": "tag"})
                assert r.status_code == 302
                r = await c.get("/drops/1", params={"via": "tag"})
                assert r.status_code == 200
                clock.advance(timedelta(hours=1))
            stats = await _stats(c)
            assert stats["funnel"]["clicked_anonymous"] == 4
            assert stats["sources"]["tag"] == {"opens": 1, "clicks": 3}
    finally:
        await app.state.engine.dispose()

    def down(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, BEFORE)

    async with scratch_engine.begin() as conn:
        await conn.run_sync(down)
    assert "visitor_key" not in await _columns(scratch_engine, "shop_clicks")
    async with scratch_engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM shop_clicks")) == 7
        tables = await conn.run_sync(lambda sync: sync.dialect.get_table_names(sync))
        assert "drop_visits" not in tables
    await upgrade(scratch_engine)
    assert "visitor_key" in await _columns(scratch_engine, "shop_clicks")
