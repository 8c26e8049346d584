"""Migration 0011 (search) indexes what is already there: old posts, drops, partner
brands and hashtags are found after the upgrade (by their plain forms), what was deleted
or cancelled is not, and it goes back down cleanly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from dropbell.app import create_app
from dropbell.clock import FakeClock
from dropbell.config import Settings
from dropbell.migrate import alembic_config, upgrade
from tests.conftest import START

pytestmark = pytest.mark.anyio

BEFORE = "0010"  # the head before 0011
SEARCH_TABLES = {"post_search", "drop_search", "account_search", "hashtags"}


def _when(engine: AsyncEngine, value: str) -> Any:
    moment = datetime.fromisoformat(value).replace(tzinfo=UTC)
    if engine.dialect.name == "sqlite":
        return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return moment


ACCOUNT = (
    "INSERT INTO accounts (id, username, password_hash, display_name, country, language,"
    " timezone, is_partner, created_at) VALUES ({id}, '{username}', '!', '{name}', 'US', 'en',"
    " 'UTC', {partner}, :t)"
)
POST = (
    "INSERT INTO posts (id, author_id, text, created_at, deleted_at, like_count, repost_count,"
    " bookmark_count, share_count) VALUES ({id}, {author}, '{text}', :t, {deleted}, 0, {reposts},"
    " 0, 0)"
)
DROP = (
    "INSERT INTO drops (id, brand_id, title, description, launch_at, tag, shop_url, post_id,"
    " reminder_count, schedule_version, cancelled_at, created_at, updated_at) VALUES ({id}, 1,"
    " '{title}', '{description}', :launch, '{tag}', 'https://shop.example/', {post}, 0, 0,"
    " {cancelled}, :t, :t)"
)


async def _fill_before(engine: AsyncEngine) -> None:
    """A partner "Maison Aurélie" with a drop and a cancelled one; a shopper's posts: one
    in French, one in Arabic with diacritics, one deleted, and a repost."""
    statements = [
        ACCOUNT.format(id=1, username="maison_aurelie", name="Maison Aurélie", partner="true"),
        ACCOUNT.format(id=2, username="maya", name="Maya Café", partner="false"),
        POST.format(id=1, author=1, text="Sac Étoile #sacetoile", deleted="NULL", reposts=0),
        DROP.format(
            id=1,
            title="Sac Étoile",
            description="Cuir grainé",
            tag="sacetoile",
            post=1,
            cancelled="NULL",
        ),
        POST.format(id=2, author=1, text="Ceinture #ceinture", deleted="NULL", reposts=0),
        DROP.format(
            id=2, title="Ceinture dorée", description="", tag="ceinture", post=2, cancelled=":t"
        ),
        POST.format(id=3, author=2, text="Un café crème #Été", deleted="NULL", reposts=1),
        POST.format(id=4, author=2, text="قَهْوَة عَرَبِيَّة #قهوة", deleted="NULL", reposts=0),
        POST.format(id=5, author=2, text="gone café #ete", deleted=":t", reposts=0),
        POST.format(id=6, author=1, text="", deleted="NULL", reposts=0),  # a repost of 3
        "INSERT INTO reposts (post_id, reblog_of_id, account_id, created_at) VALUES (6, 3, 1, :t)",
        "INSERT INTO post_tags (post_id, tag) VALUES (1, 'sacetoile'), (2, 'ceinture'),"
        " (3, 'été'), (4, 'قهوة')",
    ]
    t = _when(engine, "2029-12-31 11:00")
    launch = _when(engine, "2030-01-02 12:00")
    async with engine.begin() as conn:
        for sql in statements:
            await conn.execute(text(sql), {"t": t, "launch": launch})
        if engine.dialect.name == "postgresql":
            for table in ("accounts", "posts", "drops"):
                await conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT max(id) FROM {table}))"
                ))  # fmt: skip


async def _tables(engine: AsyncEngine) -> set[str]:
    def names(connection: Connection) -> set[str]:
        return set(inspect(connection).get_table_names())

    async with engine.connect() as conn:
        return await conn.run_sync(names)


async def _search(client: httpx.AsyncClient, q: str) -> dict[str, Any]:
    r = await client.get("/api/v1/search", params={"q": q})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _ids(items: list[dict[str, Any]]) -> list[int]:
    return [item["id"] for item in items]


async def _check_found(url: str) -> None:
    settings = Settings(database_url=url, public_url="http://dropbell.test")
    app = create_app(settings, FakeClock(START))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://dropbell.test") as c:
            assert _ids((await _search(c, "etoile"))["drops"]) == [1]
            assert _ids((await _search(c, "grainé"))["drops"]) == [1]
            assert (await _search(c, "ceinture"))["drops"] == []  # cancelled
            cafe = await _search(c, "cafe")
            assert _ids(cafe["posts"]) == [3]  # not the deleted one, nor the repost
            assert cafe["accounts"] == []  # Maya is a shopper
            assert _ids((await _search(c, "قهوة"))["posts"]) == [4]
            assert _ids((await _search(c, "aurelie"))["accounts"]) == [1]
            tags = (await _search(c, "ete"))["hashtags"]
            assert [(h["tag"], h["post_count"], h["drop_id"]) for h in tags] == [("été", 1, None)]
            tags = (await _search(c, "sacet"))["hashtags"]
            assert [(h["tag"], h["post_count"], h["drop_id"]) for h in tags] == [
                ("sacetoile", 1, 1)
            ]
            # the index goes on moving with new writes
            r = await c.post(
                "/api/v1/accounts",
                json={
                    "username": "noor",
                    "password": "correct horse battery",
                    "country": "SA",
                    "language": "ar",
                },
            )
            assert r.status_code == 201, r.text
            r = await c.post(
                "/api/v1/auth/token",
                json={"username": "noor", "password": "correct horse battery", "platform": "ios"},
            )
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            r = await c.post("/api/v1/posts", json={"text": "قهوة الصباح"}, headers=headers)
            assert r.status_code == 201, r.text
            assert _ids((await _search(c, "قَهْوَة"))["posts"]) == [r.json()["id"], 4]
    finally:
        await app.state.engine.dispose()


async def test_what_was_there_is_searchable_after_the_migration(
    scratch_engine: AsyncEngine,
) -> None:
    await upgrade(scratch_engine, BEFORE)
    await _fill_before(scratch_engine)
    await upgrade(scratch_engine)
    assert await _tables(scratch_engine) >= SEARCH_TABLES
    await _check_found(scratch_engine.url.render_as_string(hide_password=False))

    def down(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, BEFORE)

    async with scratch_engine.begin() as conn:
        await conn.run_sync(down)
    left = await _tables(scratch_engine)
    assert not SEARCH_TABLES & left
    assert not {t for t in left if t.endswith(("_fts", "_fts_data", "_fts_idx"))}
    async with scratch_engine.connect() as conn:
        assert (await conn.scalar(text("SELECT count(*) FROM posts"))) == 7
    await upgrade(scratch_engine)
    assert await _tables(scratch_engine) >= SEARCH_TABLES
