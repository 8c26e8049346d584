"""Migration 0006 (a token's last use): tokens already there keep working until they have
been idle for DROPBELL_TOKEN_IDLE_DAYS counted from when they were issued, their use is
noted from then on, and the migration goes back down cleanly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
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


def _when(engine: AsyncEngine, moment: datetime) -> Any:
    if engine.dialect.name == "sqlite":
        return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return moment


async def _fill_at_0005(engine: AsyncEngine) -> None:
    """One account with a token issued 10 days ago and one issued 40 days ago."""
    statements = [
        "INSERT INTO accounts (id, username, password_hash, display_name, country, language,"
        " timezone, is_partner, created_at) VALUES (1, 'maya', '!', 'Maya', 'US', 'en', 'UTC',"
        " false, :old)",
        "INSERT INTO access_tokens (account_id, token_hash, platform, created_at)"
        f" VALUES (1, '{token_digest('token-recent')}', 'ios', :recent)",
        "INSERT INTO access_tokens (account_id, token_hash, platform, created_at)"
        f" VALUES (1, '{token_digest('token-old')}', 'ios', :old)",
    ]
    params = {
        "old": _when(engine, START - timedelta(days=40)),
        "recent": _when(engine, START - timedelta(days=10)),
    }
    async with engine.begin() as conn:
        for sql in statements:
            await conn.execute(text(sql), params)


async def _columns(engine: AsyncEngine, table: str) -> set[str]:
    def names(connection: Connection) -> set[str]:
        return {c["name"] for c in inspect(connection).get_columns(table)}

    async with engine.connect() as conn:
        return await conn.run_sync(names)


async def test_tokens_count_idle_time_from_their_issue_then_from_their_last_use(
    scratch_engine: AsyncEngine,
) -> None:
    await upgrade(scratch_engine, "0005")
    await _fill_at_0005(scratch_engine)
    await upgrade(scratch_engine)
    assert "last_used_at" in await _columns(scratch_engine, "access_tokens")
    url = scratch_engine.url.render_as_string(hide_password=False)
    clock = FakeClock(START)
    app = create_app(Settings(database_url=url, public_url="http://dropbell.test"), clock)
    transport = httpx.ASGITransport(app=app)
    recent = {"Authorization": "Bearer token-recent"}
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://dropbell.test") as c:
            old = {"Authorization": "Bearer token-old"}
            assert (await c.get("/api/v1/accounts/me", headers=old)).status_code == 401
            assert (await c.get("/api/v1/accounts/me", headers=recent)).status_code == 200
            clock.advance(timedelta(days=25))  # 35 days after its issue, 25 after its use
            assert (await c.get("/api/v1/accounts/me", headers=recent)).status_code == 200
    finally:
        await app.state.engine.dispose()
    async with scratch_engine.connect() as conn:
        used = await conn.scalar(
            text("SELECT last_used_at FROM access_tokens WHERE last_used_at IS NOT NULL")
        )
    if isinstance(used, str):
        used = datetime.fromisoformat(used)
    assert used is not None and used.replace(tzinfo=UTC) == START + timedelta(days=25)

    async def down_to(revision: str) -> int:
        def down(connection: Connection) -> None:
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, revision)

        async with scratch_engine.begin() as conn:
            await conn.run_sync(down)
        async with scratch_engine.connect() as conn:
            return int(await conn.scalar(text("SELECT count(*) FROM access_tokens")) or 0)

    tokens = await down_to("0006")  # the later migrations first
    assert await down_to("0005") == tokens  # this one keeps every token
    assert "last_used_at" not in await _columns(scratch_engine, "access_tokens")
    await upgrade(scratch_engine)
    assert "last_used_at" in await _columns(scratch_engine, "access_tokens")
