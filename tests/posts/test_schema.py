"""The migrations build exactly the models' schema, keep existing rows, and lists cost
a fixed number of queries."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from dropbell.db import make_engine
from dropbell.migrate import alembic_config, upgrade
from dropbell.models import Base
from dropbell.search import fts
from tests.helpers import Api, User
from tests.posts.helpers import ok, post

pytestmark = pytest.mark.anyio


async def test_autogenerate_finds_nothing_to_change(template_url: str) -> None:
    engine = make_engine(template_url)

    def diff(connection: Connection) -> list[Any]:
        # Full-text objects no model can describe are left out, as in tests/test_migrations.py.
        opts = {"compare_type": True, "include_object": fts.include_object}
        context = MigrationContext.configure(connection, opts=opts)
        return list(compare_metadata(context, Base.metadata))

    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()


async def _downgrade(engine: AsyncEngine, revision: str) -> None:
    def run(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def test_upgrading_keeps_existing_posts_and_tags_and_downgrade_round_trips(
    scratch_engine: AsyncEngine,
) -> None:
    await upgrade(scratch_engine, "0001")
    async with scratch_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO accounts (id, username, password_hash, display_name, country,"
                " language, timezone, is_partner, created_at)"
                " VALUES (1, 'old', 'x', 'old', 'US', 'en', 'UTC', false, '2030-01-01')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO posts (id, author_id, text, created_at, like_count, repost_count,"
                " bookmark_count, share_count) VALUES (1, 1, '#kept', '2030-01-01', 3, 0, 0, 0)"
            )
        )
        await conn.execute(text("INSERT INTO post_tags (post_id, tag) VALUES (1, 'kept')"))

    await upgrade(scratch_engine)
    await _downgrade(scratch_engine, "0001")
    await upgrade(scratch_engine)

    async with scratch_engine.connect() as conn:
        row = (await conn.execute(text("SELECT text, like_count FROM posts"))).one()
        assert tuple(row) == ("#kept", 3)
        assert (await conn.execute(text("SELECT tag FROM post_tags"))).scalars().all() == ["kept"]


@contextmanager
def count_queries(api: Api, *, with_params: bool = False) -> Iterator[list[Any]]:
    """The statements the app sends while inside (with their parameters if asked)."""
    statements: list[Any] = []

    def record(*args: Any) -> None:
        statements.append((args[2], args[3]) if with_params else args[2])

    engine = api.app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _fill(api: Api, n: int) -> User:
    """n posts by n authors, each liked, bookmarked and reposted, half of them drops."""
    viewer = await api.signup()
    for i in range(n):
        brand = await api.partner()
        if i % 2:
            drop = await api.create_drop(brand, tag=f"tagged_{n}_{i}")
            post_id = drop["post_id"]
            await api.remind(viewer, drop["id"])
        else:
            post_id = (await post(api, brand, f"#common post {i}"))["id"]
        for action in ("like", "bookmark", "repost"):
            await ok(api, viewer, post_id, action)
        await ok(api, brand, post_id, "like")
    return viewer


@pytest.mark.parametrize(
    "path",
    ["/api/v1/timelines/public", "/api/v1/bookmarks", "/api/v1/tags/common"],
)
async def test_lists_take_the_same_number_of_queries_for_2_or_20_posts(api: Api, path: str) -> None:
    counts = []
    for n in (2, 20):
        viewer = await _fill(api, n)
        with count_queries(api) as statements:
            r = await api.client.get(path, params={"limit": 80}, headers=viewer.headers)
        assert r.status_code == 200
        assert len(r.json()["posts"] if "tags" in path else r.json()) >= n // 2
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


async def test_the_inbox_takes_the_same_number_of_queries_for_2_or_20_likes(api: Api) -> None:
    counts = []
    for n in (2, 20):
        author = await api.signup()
        for i in range(n):
            p = await post(api, author, f"post {i}")
            await ok(api, await api.signup(), p["id"], "like")
        with count_queries(api) as statements:
            assert len(await api.inbox(author, limit=80)) == n
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


# SQLite only (not skipped on PostgreSQL: never collected there). SQLite plans by rules,
# PostgreSQL by statistics; benchmarks/posts.py gives PostgreSQL's figures at 1M posts.
@pytest.mark.parametrize("template_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/timelines/public",
        "/api/v1/timelines/public?max_id=5",
        "/api/v1/tags/common",
        "/api/v1/tags/common?max_id=5",
        "/api/v1/bookmarks",
    ],
)
async def test_hot_pages_never_scan_a_table_on_sqlite(
    api: Api, database_url: str, path: str
) -> None:
    """Every statement behind these pages is index lookups and bounded index range scans.

    SQLite plans by rules, not statistics, so its plan on a small database is the
    plan on a large one; a SCAN here is a full pass over a table at any size.
    """
    viewer = await _fill(api, 4)
    with count_queries(api, with_params=True) as statements:
        r = await api.client.get(path, headers=viewer.headers)
    assert r.status_code == 200
    database = sqlite3.connect(make_url(database_url).database or "")
    try:
        for sql, params in statements:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            plan = [row[3] for row in database.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
            scans = [
                step
                for step in plan
                # A bounded range scan in index order is how a page is read: fine.
                if step.startswith("SCAN")
                and not step.startswith(
                    ("SCAN on_page", "SCAN posts USING INDEX ix_posts_timeline")
                )
            ]
            assert scans == [], (sql, plan)
    finally:
        database.close()
