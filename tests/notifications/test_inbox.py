from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from dropbell.reminders.scheduler import Scheduler
from tests.helpers import Api, User

pytestmark = pytest.mark.anyio


async def _two_notices(api: Api, scheduler: Scheduler) -> tuple[User, User, dict]:  # type: ignore[type-arg]
    brand = await api.partner()
    shopper = await api.signup()
    drop = await api.create_drop(brand, in_=timedelta(hours=1))
    await api.remind(shopper, drop["id"])
    api.clock.set(datetime.fromisoformat(drop["launch_at"]))
    api.clock.advance(-timedelta(minutes=15))
    await scheduler.run_due()
    api.clock.advance(timedelta(minutes=15))
    await scheduler.run_due()
    return brand, shopper, drop


async def test_unread_count_read_and_read_all(api: Api, scheduler: Scheduler) -> None:
    brand, shopper, drop = await _two_notices(api, scheduler)
    h = shopper.headers
    assert (await api.client.get("/api/v1/notifications/unread_count", headers=h)).json() == {
        "count": 2
    }
    _live, soon = await api.inbox(shopper)
    r = await api.client.post(f"/api/v1/notifications/{soon['id']}/read", headers=h)
    assert r.status_code == 200 and r.json()["read"] is True
    await api.client.post(f"/api/v1/notifications/{soon['id']}/read", headers=h)  # idempotent
    assert (await api.client.get("/api/v1/notifications/unread_count", headers=h)).json()[
        "count"
    ] == 1
    r = await api.client.post("/api/v1/notifications/read_all", headers=h)
    assert r.json() == {"count": 1}
    assert (await api.client.get("/api/v1/notifications/unread_count", headers=h)).json()[
        "count"
    ] == 0
    stats = (
        await api.client.get(f"/api/v1/drops/{drop['id']}/stats", headers=brand.headers)
    ).json()
    assert stats["opened"] == 1  # opening one counts; read_all is not opening


async def test_filter_by_type_and_page(api: Api, scheduler: Scheduler) -> None:
    _, shopper, _ = await _two_notices(api, scheduler)
    only_live = await api.inbox(shopper, **{"types[]": "drop_live"})
    assert [n["type"] for n in only_live] == ["drop_live"]
    r = await api.client.get("/api/v1/notifications", headers=shopper.headers, params={"limit": 1})
    assert [n["type"] for n in r.json()] == ["drop_live"]
    nxt = r.headers["link"].split(">")[0].lstrip("<")
    r = await api.client.get(nxt, headers=shopper.headers)
    assert [n["type"] for n in r.json()] == ["drop_soon"]
    assert "link" not in r.headers
    r = await api.client.get(
        "/api/v1/notifications", headers=shopper.headers, params={"types[]": "nonsense"}
    )
    assert r.status_code == 422


async def test_nobody_reads_or_marks_another_users_notifications(
    api: Api, scheduler: Scheduler
) -> None:
    _, shopper, _ = await _two_notices(api, scheduler)
    snoop = await api.signup()
    theirs = (await api.inbox(shopper))[0]
    assert await api.inbox(snoop) == []
    r = await api.client.post(f"/api/v1/notifications/{theirs['id']}/read", headers=snoop.headers)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = await api.client.post("/api/v1/notifications/read_all", headers=snoop.headers)
    assert r.json() == {"count": 0}
    assert (await api.inbox(shopper))[0]["read"] is False
    assert (await api.client.get("/api/v1/notifications")).status_code == 401


async def test_an_inbox_read_does_not_wait_for_a_writer(api: Api, scheduler: Scheduler) -> None:
    """A GET reads a statement at a time (docs/architecture.md): on SQLite it does not queue
    for the write lock a long transaction holds (a 10M audience count once stalled every
    inbox for 1.7 s), and on either database it sees only what was committed."""
    import asyncio

    from sqlalchemy import update

    from dropbell.db import transaction
    from dropbell.notifications.models import Notification

    _, shopper, drop = await _two_notices(api, scheduler)
    path = "/api/v1/notifications/unread_count"
    # Once an hour a token's use is recorded (one UPDATE, which on SQLite does wait for
    # the writer); this read takes care of it, so the one below only reads.
    assert (await api.client.get(path, headers=shopper.headers)).status_code == 200
    async with transaction(api.app.state.sessionmaker) as writer:  # type: ignore[attr-defined]
        await writer.execute(  # holds SQLite's write lock until the block ends
            update(Notification)
            .where(Notification.drop_id == drop["id"])
            .values(lead_seconds=Notification.lead_seconds)
        )
        async with asyncio.timeout(10):  # blocked, it would wait for the writer: forever
            r = await api.client.get(path, headers=shopper.headers)
        assert r.status_code == 200
        assert r.json() == {"count": 2}
