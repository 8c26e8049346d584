"""Migration 0009 (uploaded images, regional drops): drops already there survive as they
were, sold everywhere (``countries`` NULL) and without an uploaded image, with their
reminders; new drops can be limited to countries and point at an upload; and the
migration goes back down without touching the drops."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from dropbell.migrate import alembic_config, upgrade
from tests.test_migration_0007 import _fill_before, _when

pytestmark = pytest.mark.anyio


async def _inspect(engine: AsyncEngine) -> tuple[set[str], set[str]]:
    def names(connection: Connection) -> tuple[set[str], set[str]]:
        found = inspect(connection)
        return {c["name"] for c in found.get_columns("drops")}, set(found.get_table_names())

    async with engine.connect() as conn:
        return await conn.run_sync(names)


async def test_drops_already_there_are_sold_everywhere(scratch_engine: AsyncEngine) -> None:
    await upgrade(scratch_engine, "0008")
    await _fill_before(scratch_engine)
    t = _when(scratch_engine, "2029-12-31 11:30")
    async with scratch_engine.begin() as conn:
        await conn.execute(
            text("UPDATE drops SET image_url = 'https://cdn.shop.example/bag.jpg',"
                 " image_alt = 'A quilted bag' WHERE id = 1")
        )  # fmt: skip
        await conn.execute(
            text(
                "INSERT INTO reminders (drop_id, account_id, offsets, created_at)"
                " VALUES (1, 2, '900', :t)"
            ),
            {"t": t},
        )
    await upgrade(scratch_engine, "0009")

    async with scratch_engine.begin() as conn:
        row = (
            await conn.execute(
                text("SELECT title, image_url, image_alt, media_id, countries FROM drops")
            )
        ).one()
        assert tuple(row) == (
            "Bag", "https://cdn.shop.example/bag.jpg", "A quilted bag", None, None,
        )  # fmt: skip
        assert await conn.scalar(text("SELECT count(*) FROM reminders")) == 1
        await conn.execute(
            text(
                "INSERT INTO media (id, brand_id, key, source_format, source_bytes, fallback,"
                " sizes, stored_bytes, created_at) VALUES (1, 1, :key, 'jpeg', 2048, 'jpeg',"
                " '320x240,640x480', 4096, :t)"
            ),
            {"key": "a" * 32, "t": t},
        )
        await conn.execute(
            text(
                "INSERT INTO posts (id, author_id, text, created_at, like_count, repost_count,"
                " bookmark_count, share_count) VALUES (2, 1, '', :t, 0, 0, 0, 0)"
            ),
            {"t": t},
        )
        await conn.execute(
            text(
                "INSERT INTO drops (id, brand_id, title, description, image_alt, media_id,"
                " countries, launch_at, tag, shop_url, post_id, reminder_count,"
                " schedule_version, created_at, updated_at) VALUES (2, 1, 'Sac', '', 'A bag',"
                " 1, 'AE,SA', :t, 'sac', 'https://shop.example/', 2, 0, 0, :t, :t)"
            ),
            {"t": t},
        )

    def down(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0008")

    async with scratch_engine.begin() as conn:
        await conn.run_sync(down)
    columns, tables = await _inspect(scratch_engine)
    assert not {"media_id", "countries"} & columns
    assert "media" not in tables
    async with scratch_engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM drops")) == 2
        assert await conn.scalar(text("SELECT count(*) FROM reminders")) == 1
    await upgrade(scratch_engine)
    columns, tables = await _inspect(scratch_engine)
    assert {"media_id", "countries"} <= columns
    assert "media" in tables
