"""Migration 0005 (count each viewer once an hour) keeps the clicks and shares already
counted, counts new ones once per viewer and hour, and goes back down cleanly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from dropbell.accounts.security import token_digest
from dropbell.app import create_app
from dropbell.clock import FakeClock
from dropbell.config import Settings
from dropbell.migrate import alembic_config, upgrade
from tests.conftest import START

pytestmark = pytest.mark.anyio

BRAND = {"Authorization": "Bearer token-brand"}


def _when(engine: AsyncEngine, value: str) -> Any:
    moment = datetime.fromisoformat(value).replace(tzinfo=UTC)
    if engine.dialect.name == "sqlite":
        return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return moment


async def _fill_at_0004(engine: AsyncEngine) -> None:
    """A drop with three clicks and a post with two shares, all from one anonymous viewer."""
    t = _when(engine, "2029-12-31 11:00")
    statements = [
        "INSERT INTO accounts (id, username, password_hash, display_name, country, language,"
        " timezone, is_partner, created_at) VALUES (1, 'brand', '!', 'Brand', 'US', 'en', 'UTC',"
        " true, :t)",
        "INSERT INTO access_tokens (account_id, token_hash, platform, created_at)"
        f" VALUES (1, '{token_digest('token-brand')}', 'web', :t)",
        "INSERT INTO posts (id, author_id, text, created_at, like_count, repost_count,"
        " bookmark_count, share_count) VALUES (1, 1, 'Drop #drop1', :t, 0, 0, 0, 2)",
        "INSERT INTO drops (id, brand_id, title, description, launch_at, tag, shop_url, post_id,"
        " reminder_count, schedule_version, created_at, updated_at) VALUES (1, 1, 'Drop', '',"
        " :t, 'drop1', 'https://shop.example/', 1, 0, 0, :t, :t)",
        *["INSERT INTO shop_clicks (drop_id, source, created_at) VALUES (1, 'tag', :t)"] * 3,
        *["INSERT INTO post_shares (post_id, created_at) VALUES (1, :t)"] * 2,
    ]
    async with engine.begin() as conn:
        for sql in statements:
            await conn.execute(text(sql), {"t": t})
        if engine.dialect.name == "postgresql":
            for table in ("accounts", "posts", "drops"):
                await conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT max(id) FROM {table}))"
                ))  # fmt: skip


async def _columns(engine: AsyncEngine, table: str) -> set[str]:
    def names(connection: Connection) -> set[str]:
        return {c["name"] for c in inspect(connection).get_columns(table)}

    async with engine.connect() as conn:
        return await conn.run_sync(names)


async def test_counted_clicks_and_shares_stay_and_new_ones_count_once(
    scratch_engine: AsyncEngine,
) -> None:
    await upgrade(scratch_engine, "0004")
    await _fill_at_0004(scratch_engine)
    await upgrade(scratch_engine)
    url = scratch_engine.url.render_as_string(hide_password=False)
    app = create_app(
        Settings(database_url=url, public_url="http://dropbell.test"), FakeClock(START)
    )
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://dropbell.test") as c:
            stats = (await c.get("/api/v1/drops/1/stats", headers=BRAND)).json()
            assert (stats["shop_clicks"]["total"], stats["shop_clicks"]["tag"]) == (3, 3)
            for _ in range(3):
                assert (await c.get("/drops/1/shop", params={"source": "post"})).status_code == 302
                assert (await c.post("/api/v1/posts/1/share")).status_code == 200
            stats = (await c.get("/api/v1/drops/1/stats", headers=BRAND)).json()
            assert (stats["shop_clicks"]["total"], stats["shop_clicks"]["post"]) == (4, 1)
            assert (await c.get("/api/v1/posts/1")).json()["share_count"] == 3
    finally:
        await app.state.engine.dispose()

    def down(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0004")

    async with scratch_engine.begin() as conn:
        await conn.run_sync(down)
    assert "once_key" not in await _columns(scratch_engine, "shop_clicks")
    assert "once_key" not in await _columns(scratch_engine, "post_shares")
    async with scratch_engine.connect() as conn:
        assert (await conn.scalar(text("SELECT count(*) FROM shop_clicks"))) == 4
    await upgrade(scratch_engine)
    assert "once_key" in await _columns(scratch_engine, "shop_clicks")
