"""Migration 0007 (confusable skeletons) fills the skeletons of the drops and partners
already there, so a look-alike of an old tag or an old partner's name is refused, and
goes back down cleanly."""

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

BEFORE = "0006"  # the head before 0007
BRAND = {"Authorization": "Bearer token-brand"}


def _when(engine: AsyncEngine, value: str) -> Any:
    moment = datetime.fromisoformat(value).replace(tzinfo=UTC)
    if engine.dialect.name == "sqlite":
        return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return moment


async def _fill_before(engine: AsyncEngine) -> None:
    """A partner "Maison Aurelle" with a drop tagged #aurellebag, and a shopper."""
    t = _when(engine, "2029-12-31 11:00")
    launch = _when(engine, "2030-01-02 12:00")
    statements = [
        "INSERT INTO accounts (id, username, password_hash, display_name, country, language,"
        " timezone, is_partner, created_at) VALUES (1, 'maison_aurelle', '!', 'Maison Aurelle',"
        " 'US', 'en', 'UTC', true, :t)",
        "INSERT INTO accounts (id, username, password_hash, display_name, country, language,"
        " timezone, is_partner, created_at) VALUES (2, 'maya', '!', 'Maya', 'US', 'en', 'UTC',"
        " false, :t)",
        "INSERT INTO shop_domains (account_id, domain) VALUES (1, 'shop.example')",
        "INSERT INTO access_tokens (account_id, token_hash, platform, created_at)"
        f" VALUES (1, '{token_digest('token-brand')}', 'web', :t)",
        "INSERT INTO posts (id, author_id, text, created_at, like_count, repost_count,"
        " bookmark_count, share_count) VALUES (1, 1, 'Bag #aurellebag', :t, 0, 0, 0, 0)",
        "INSERT INTO drops (id, brand_id, title, description, launch_at, tag, shop_url, post_id,"
        " reminder_count, schedule_version, created_at, updated_at) VALUES (1, 1, 'Bag', '',"
        " :launch, 'aurellebag', 'https://shop.example/', 1, 0, 0, :t, :t)",
    ]
    async with engine.begin() as conn:
        for sql in statements:
            await conn.execute(text(sql), {"t": t, "launch": launch})
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


async def test_old_tags_and_partners_are_protected_after_the_migration(
    scratch_engine: AsyncEngine,
) -> None:
    await upgrade(scratch_engine, BEFORE)
    await _fill_before(scratch_engine)
    await upgrade(scratch_engine)
    url = scratch_engine.url.render_as_string(hide_password=False)
    app = create_app(
        Settings(database_url=url, public_url="http://dropbell.test", rate_limit_signup="off"),
        FakeClock(START),
    )
    transport = httpx.ASGITransport(app=app)
    drop = {
        "title": "Copy",
        "launch_at": "2030-01-03T12:00:00Z",
        "shop_url": "https://shop.example/copy",
    }
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://dropbell.test") as c:
            r = await c.post("/api/v1/drops", json={**drop, "tag": "aure1lebag"}, headers=BRAND)
            assert r.status_code == 409 and r.json()["code"] == "tag_confusable", r.text
            r = await c.post("/api/v1/drops", json={**drop, "tag": "aurellebag2"}, headers=BRAND)
            assert r.status_code == 201, r.text
            signup = {
                "username": "copycat",
                "password": "correct horse battery",
                "country": "US",
                "language": "en",
            }
            r = await c.post("/api/v1/accounts", json={**signup, "display_name": "MAISON AURE1LE"})
            assert r.status_code == 422 and "partner brand" in r.json()["error"], r.text
            r = await c.post("/api/v1/accounts", json={**signup, "display_name": "Maya Aurelle"})
            assert r.status_code == 201, r.text
            brand = (await c.get("/api/v1/drops/1")).json()["brand"]
            assert brand["is_partner"] is True
    finally:
        await app.state.engine.dispose()

    def down(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, BEFORE)

    async with scratch_engine.begin() as conn:
        await conn.run_sync(down)
    assert "tag_skeleton" not in await _columns(scratch_engine, "drops")
    assert not {"name_skeleton", "name_skeleton_cased", "username_skeleton"} & await _columns(
        scratch_engine, "accounts"
    )
    async with scratch_engine.connect() as conn:
        assert (await conn.scalar(text("SELECT count(*) FROM drops"))) == 2
        assert (await conn.scalar(text("SELECT count(*) FROM accounts"))) == 3
    await upgrade(scratch_engine)
    assert "tag_skeleton" in await _columns(scratch_engine, "drops")
