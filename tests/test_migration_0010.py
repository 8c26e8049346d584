"""Migration 0010 (follows): a database from 0009 with its notices keeps them; follows and
a brand's announcements then work on it; and going back down removes the follows and
the announcements (which code before 0010 cannot show) and nothing else."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from dropbell.migrate import alembic_config, upgrade
from tests.test_migration_0007 import _fill_before, _when

pytestmark = pytest.mark.anyio


async def _tables(engine: AsyncEngine) -> set[str]:
    def names(connection: Connection) -> set[str]:
        return set(inspect(connection).get_table_names())

    async with engine.connect() as conn:
        return await conn.run_sync(names)


def _notice(nid: int, kind: str, actor: str) -> str:
    return (
        "INSERT INTO notifications (id, account_id, type, drop_id, actor_id, due_at,"
        f" created_at) VALUES ({nid}, NULL, '{kind}', 1, {actor}, :t, :t)"
    )


async def test_follows_come_and_go_and_the_notices_stay(scratch_engine: AsyncEngine) -> None:
    await upgrade(scratch_engine, "0009")
    await _fill_before(scratch_engine)
    t = _when(scratch_engine, "2029-12-31 11:30")
    async with scratch_engine.begin() as conn:
        await conn.execute(text(_notice(1, "drop_live", "NULL")), {"t": t})
        await conn.execute(
            text("INSERT INTO notice_reads (account_id, notification_id, read_at)"
                 " VALUES (2, 1, :t)"),
            {"t": t},
        )  # fmt: skip
    await upgrade(scratch_engine, "0010")
    assert "follows" in await _tables(scratch_engine)
    async with scratch_engine.begin() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM notifications")) == 1
        await conn.execute(
            text("INSERT INTO follows (account_id, brand_id, created_at) VALUES (2, 1, :t)"),
            {"t": t},
        )
        await conn.execute(text(_notice(2, "drop_announced", "1")), {"t": t})
        await conn.execute(
            text("INSERT INTO notice_reads (account_id, notification_id, read_at)"
                 " VALUES (2, 2, :t)"),
            {"t": t},
        )  # fmt: skip
        with pytest.raises(IntegrityError, match=r"(?i)unique"):  # one open follow per pair
            async with conn.begin_nested():
                await conn.execute(
                    text("INSERT INTO follows (account_id, brand_id, created_at)"
                         " VALUES (2, 1, :t)"),
                    {"t": t},
                )  # fmt: skip

    def down(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0009")

    async with scratch_engine.begin() as conn:
        await conn.run_sync(down)
    assert "follows" not in await _tables(scratch_engine)
    async with scratch_engine.connect() as conn:
        types = (await conn.execute(text("SELECT type FROM notifications"))).scalars().all()
        assert types == ["drop_live"]  # the announcement went with the follows
        reads = await conn.execute(text("SELECT notification_id FROM notice_reads"))
        assert reads.scalars().all() == [1]
    await upgrade(scratch_engine)
