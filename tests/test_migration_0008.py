"""Migration 0008 (a drop image's alt text): drops already there get "" (no description
yet), new drops keep what the brand wrote, and the migration goes back down cleanly."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from dropbell.migrate import alembic_config, upgrade
from tests.test_migration_0007 import _fill_before, _when

pytestmark = pytest.mark.anyio


async def _columns(engine: AsyncEngine) -> set[str]:
    def names(connection: Connection) -> set[str]:
        return {c["name"] for c in inspect(connection).get_columns("drops")}

    async with engine.connect() as conn:
        return await conn.run_sync(names)


async def test_drops_already_there_get_an_empty_alt_text(scratch_engine: AsyncEngine) -> None:
    await upgrade(scratch_engine, "0007")
    await _fill_before(scratch_engine)
    await upgrade(scratch_engine, "0008")
    t = _when(scratch_engine, "2029-12-31 11:30")
    async with scratch_engine.begin() as conn:
        assert await conn.scalar(text("SELECT image_alt FROM drops WHERE id = 1")) == ""
        await conn.execute(
            text(
                "INSERT INTO posts (id, author_id, text, created_at, like_count, repost_count,"
                " bookmark_count, share_count) VALUES (2, 1, '', :t, 0, 0, 0, 0)"
            ),
            {"t": t},
        )
        await conn.execute(
            text(
                "INSERT INTO drops (id, brand_id, title, description, image_alt, launch_at, tag,"
                " shop_url, post_id, reminder_count, schedule_version, created_at, updated_at)"
                " VALUES (2, 1, 'Sac', '', 'A quilted bag', :t, 'sac', 'https://shop.example/',"
                " 2, 0, 0, :t, :t)"
            ),
            {"t": t},
        )

    def down(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0007")

    async with scratch_engine.begin() as conn:
        await conn.run_sync(down)
    assert "image_alt" not in await _columns(scratch_engine)
    async with scratch_engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM drops")) == 2
    await upgrade(scratch_engine)
    assert "image_alt" in await _columns(scratch_engine)
