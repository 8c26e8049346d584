"""Migration 0003 (notices, read-time fan-out) carries an existing database over: the
drop notifications already delivered, their read state and opens, the stats, a fan-out
that was half way, and the reminders with the lead they were scheduled with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from dropbell.accounts.security import token_digest
from dropbell.app import create_app
from dropbell.clock import FakeClock
from dropbell.config import Settings
from dropbell.migrate import upgrade
from dropbell.reminders.scheduler import Scheduler
from tests.conftest import START

pytestmark = pytest.mark.anyio

BRAND, ANN, BEN, CY = 1, 2, 3, 4


def _when(engine: AsyncEngine, value: str) -> Any:
    moment = datetime.fromisoformat(value).replace(tzinfo=UTC)
    if engine.dialect.name == "sqlite":
        return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return moment


async def _fill_at_0002(engine: AsyncEngine) -> None:
    """Data as the per-subscriber engine left it (rows written with raw SQL, as then)."""
    rows: list[tuple[str, dict[str, Any]]] = []
    for account_id, name in ((BRAND, "brand"), (ANN, "ann"), (BEN, "ben"), (CY, "cy")):
        rows.append((
            "INSERT INTO accounts (id, username, password_hash, display_name, country, language,"
            " timezone, is_partner, created_at) VALUES (:id, :name, '!', :name, 'US', 'en', 'UTC',"
            " :partner, :t)",
            {"id": account_id, "name": name, "partner": account_id == BRAND, "t": "2029-12-01"},
        ))  # fmt: skip
        rows.append((
            "INSERT INTO access_tokens (account_id, token_hash, platform, created_at)"
            " VALUES (:id, :hash, 'ios', :t)",
            # Issued within DROPBELL_TOKEN_IDLE_DAYS of the test's now (tokens expire idle).
            {"id": account_id, "hash": token_digest(f"token-{name}"), "t": "2029-12-20"},
        ))  # fmt: skip
    # Drop 1 launches after the upgrade; 2 launched before it; 3's launch was half fanned out.
    for drop_id, launch in ((1, "2030-01-01 13:00"), (2, "2029-12-31 12:00"),
                            (3, "2029-12-31 18:00")):  # fmt: skip
        rows.append((
            "INSERT INTO posts (id, author_id, text, created_at, like_count, repost_count,"
            " bookmark_count, share_count) VALUES (:id, 1, 'Drop', :t, 0, 0, 0, 0)",
            {"id": drop_id, "t": "2029-12-01"},
        ))  # fmt: skip
        rows.append((
            "INSERT INTO drops (id, brand_id, title, description, launch_at, tag, shop_url,"
            " post_id, reminder_count, schedule_version, created_at, updated_at) VALUES (:id, 1,"
            " 'Drop', '', :launch, :tag, 'https://shop.example/', :id, 2, 0, :t, :t)",
            {"id": drop_id, "launch": launch, "tag": f"drop{drop_id}", "t": "2029-12-01"},
        ))  # fmt: skip
        for account_id in (ANN, BEN):
            rows.append((
                "INSERT INTO reminders (drop_id, account_id, created_at) VALUES (:d, :a, :t)",
                {"d": drop_id, "a": account_id, "t": "2029-12-02"},
            ))  # fmt: skip
    jobs = [  # id, drop, kind, due, state, cursor
        (1, 1, "drop_soon", "2030-01-01 12:30", "pending", 0),  # a 30-minute lead
        (2, 1, "drop_live", "2030-01-01 13:00", "pending", 0),
        (3, 2, "drop_soon", "2029-12-31 11:45", "done", 0),
        (4, 2, "drop_live", "2029-12-31 12:00", "done", 0),
        (5, 3, "drop_live", "2029-12-31 18:00", "running", ANN),
    ]
    for job_id, drop_id, kind, due, state, cursor in jobs:
        rows.append((
            "INSERT INTO reminder_jobs (id, drop_id, kind, due_at, state, cursor, delivered,"
            " attempts, created_at) VALUES (:id, :d, :k, :due, :s, :c, 0, 1, :t)",
            {"id": job_id, "d": drop_id, "k": kind, "due": due, "s": state, "c": cursor,
             "t": "2029-12-01"},
        ))  # fmt: skip
    notifications = [  # id, account, job, drop, kind, due, read
        (1, ANN, 3, 2, "drop_soon", "2029-12-31 11:45", "2029-12-31 11:50"),
        (2, BEN, 3, 2, "drop_soon", "2029-12-31 11:45", None),
        (3, ANN, 4, 2, "drop_live", "2029-12-31 12:00", None),
        (4, BEN, 4, 2, "drop_live", "2029-12-31 12:00", None),
        (5, ANN, 5, 3, "drop_live", "2029-12-31 18:00", "2029-12-31 18:05"),
    ]
    for nid, account_id, job_id, drop_id, kind, due, read in notifications:
        rows.append((
            "INSERT INTO notifications (id, account_id, type, drop_id, job_id, created_at,"
            " read_at) VALUES (:id, :a, :k, :d, :j, :due, :read)",
            {"id": nid, "a": account_id, "k": kind, "d": drop_id, "j": job_id, "due": due,
             "read": read},
        ))  # fmt: skip
    for job_id, due in ((3, "2029-12-31 11:45:01"), (4, "2029-12-31 12:00:02")):
        rows.append((
            "INSERT INTO deliveries (job_id, count, delivered_at) VALUES (:j, 2, :t)",
            {"j": job_id, "t": due},
        ))  # fmt: skip
    rows.append((
        "INSERT INTO drop_opens (notification_id, drop_id, account_id, opened_at)"
        " VALUES (1, 2, :a, :t)",
        {"a": ANN, "t": "2029-12-31 11:50"},
    ))  # fmt: skip
    times = {"t", "due", "launch", "read"}
    async with engine.begin() as conn:
        for sql, params in rows:
            bound = {k: _when(engine, v) if k in times and v else v for k, v in params.items()}
            await conn.execute(text(sql), bound)
        if engine.dialect.name == "postgresql":
            for table in ("accounts", "access_tokens", "posts", "drops", "reminder_jobs",
                          "notifications", "deliveries"):  # fmt: skip
                await conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT max(id) FROM {table}))"
                ))  # fmt: skip


@pytest.fixture
async def upgraded(scratch_engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    await upgrade(scratch_engine, "0002")
    await _fill_at_0002(scratch_engine)
    await upgrade(scratch_engine)
    url = scratch_engine.url.render_as_string(hide_password=False)
    clock = FakeClock(START)
    app = create_app(Settings(database_url=url, public_url="http://dropbell.test"), clock)
    app.state.test_scheduler = Scheduler(app.state.sessionmaker, clock, app.state.settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dropbell.test") as c:
        c.app = app  # type: ignore[attr-defined]
        yield c
    await app.state.engine.dispose()


def _as(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer token-{name}"}


async def _inbox(client: httpx.AsyncClient, name: str) -> list[tuple[int, str, bool]]:
    r = await client.get("/api/v1/notifications", headers=_as(name))
    assert r.status_code == 200, r.text
    return [(n["drop"]["id"], n["type"], n["read"]) for n in r.json()]


async def test_delivered_notifications_and_read_state_come_through(
    upgraded: httpx.AsyncClient,
) -> None:
    client = upgraded
    await client.app.state.test_scheduler.run_due()  # type: ignore[attr-defined]
    # The half-done fan-out became a notice: Ann keeps her read copy, Ben gets his; once.
    assert await _inbox(client, "ann") == [
        (3, "drop_live", True),
        (2, "drop_live", False),
        (2, "drop_soon", True),
    ]
    assert await _inbox(client, "ben") == [
        (3, "drop_live", False),
        (2, "drop_live", False),
        (2, "drop_soon", False),
    ]
    assert await _inbox(client, "cy") == []
    counts = [
        (await client.get("/api/v1/notifications/unread_count", headers=_as(n))).json()["count"]
        for n in ("ann", "ben", "cy")
    ]
    assert counts == [1, 3, 0]
    stats = (await client.get("/api/v1/drops/2/stats", headers=_as("brand"))).json()
    assert (stats["notified_soon"], stats["notified_live"], stats["opened"]) == (2, 2, 1)
    assert stats["lateness_ms"]["max"] == 2000.0
    # Told in shoppers: Ann and Ben, from the rows written per subscriber before notices.
    assert (stats["funnel"]["told"], stats["funnel"]["opened"]) == (2, 1)
    stats = (await client.get("/api/v1/drops/3/stats", headers=_as("brand"))).json()
    assert stats["notified_live"] == 2


async def test_pending_reminders_keep_their_lead_and_fire_once(
    upgraded: httpx.AsyncClient,
) -> None:
    client = upgraded
    drop = (await client.get("/api/v1/drops/1", headers=_as("ann"))).json()
    assert drop["reminded"] is True and drop["reminder_offsets"] == [1800]
    scheduler = client.app.state.test_scheduler  # type: ignore[attr-defined]
    for moment in ("2030-01-01T12:30:00+00:00", "2030-01-01T13:00:00+00:00"):
        scheduler.clock.set(datetime.fromisoformat(moment))
        await scheduler.run_due()
    inbox = (await client.get("/api/v1/notifications", headers=_as("ben"))).json()
    assert [(n["drop"]["id"], n["type"], n["lead_seconds"]) for n in inbox[:2]] == [
        (1, "drop_live", None),
        (1, "drop_soon", 1800),
    ]
    r = await client.post("/api/v1/drops/1/unremind", headers=_as("ann"))
    assert r.status_code == 200 and r.json()["reminder_count"] == 1
