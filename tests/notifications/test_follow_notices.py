"""A followed brand's new drop: ONE ``drop_announced`` notice, seen by each follower whose
follow period covered the announcement, exactly once (docs/architecture.md, "follow
periods"). Every test runs with each way of reading an inbox (tests/conftest.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from dropbell.db import transaction
from dropbell.notifications.models import Notification
from dropbell.reminders.scheduler import Scheduler
from tests.helpers import Api, User

pytestmark = pytest.mark.anyio


async def _follow(api: Api, user: User, brand: User, action: str = "follow") -> dict[str, Any]:
    r = await api.client.post(f"/api/v1/accounts/{brand.id}/{action}", headers=user.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def _unread(api: Api, user: User) -> int:
    r = await api.client.get("/api/v1/notifications/unread_count", headers=user.headers)
    assert r.status_code == 200, r.text
    return int(r.json()["count"])


async def _announced(api: Api, user: User) -> list[dict[str, Any]]:
    return [n for n in await api.inbox(user, limit=80) if n["type"] == "drop_announced"]


async def test_a_follower_is_told_once_of_each_new_drop(api: Api) -> None:
    brand, fan, stranger = await api.partner(), await api.signup(), await api.signup()
    await _follow(api, fan, brand)
    drop = await api.create_drop(brand, title="Field jacket", in_=timedelta(days=2))
    await api.remind(fan, drop["id"])  # reminding it too does not show it twice
    [notice] = await api.inbox(fan)
    assert notice["type"] == "drop_announced" and notice["read"] is False
    assert notice["drop"]["id"] == drop["id"] and notice["drop"]["reminded"] is True
    assert notice["account"]["id"] == brand.id and notice["account"]["is_partner"] is True
    assert await api.inbox(fan, **{"types[]": "drop_announced"}) == [notice]
    assert await _unread(api, fan) == 1
    assert await api.inbox(stranger) == [] and await _unread(api, stranger) == 0
    # One row for the announcement, however many follow: nothing is written per follower.
    for _ in range(3):
        await _follow(api, await api.signup(), brand)
    async with transaction(api.app.state.sessionmaker) as session:
        rows = await session.scalar(
            select(func.count()).select_from(Notification).where(Notification.drop_id == drop["id"])
        )
    assert rows == 1


async def test_read_and_read_all_count_announcements(api: Api, scheduler: Scheduler) -> None:
    brand, fan = await api.partner(), await api.signup()
    await _follow(api, fan, brand)
    first = await api.create_drop(brand, in_=timedelta(hours=2))
    await api.create_drop(brand, in_=timedelta(hours=3))
    await api.remind(fan, first["id"])
    api.clock.set(datetime.fromisoformat(first["launch_at"]))
    await scheduler.run_due()  # the launch (through the reminder) beside two announcements
    assert [n["type"] for n in await api.inbox(fan)] == [
        "drop_live",
        "drop_announced",
        "drop_announced",
    ]
    assert await _unread(api, fan) == 3
    newest_announced = (await _announced(api, fan))[0]
    r = await api.client.post(
        f"/api/v1/notifications/{newest_announced['id']}/read", headers=fan.headers
    )
    assert r.status_code == 200 and r.json()["read"] is True
    assert r.json()["type"] == "drop_announced"
    assert await _unread(api, fan) == 2
    r = await api.client.post("/api/v1/notifications/read_all", headers=fan.headers)
    assert r.json() == {"count": 2}
    assert await _unread(api, fan) == 0 and all(n["read"] for n in await api.inbox(fan))
    await api.create_drop(brand, in_=timedelta(hours=5))  # after read_all: unread
    assert await _unread(api, fan) == 1
    assert [n["read"] for n in await api.inbox(fan)][:2] == [False, True]


async def test_an_unfollowed_brand_tells_nothing_more(api: Api) -> None:
    brand, fan = await api.partner(), await api.signup()
    await _follow(api, fan, brand)
    before = await api.create_drop(brand)
    api.clock.advance(60)
    assert await _follow(api, fan, brand, "unfollow") == {"following": False}
    api.clock.advance(60)
    await api.create_drop(brand)
    # What was announced while following stays; nothing after.
    assert [n["drop"]["id"] for n in await api.inbox(fan)] == [before["id"]]
    assert await _unread(api, fan) == 1


async def test_following_after_an_announcement_is_not_back_dated(api: Api) -> None:
    brand, late = await api.partner(), await api.signup()
    earlier = await api.create_drop(brand)
    api.clock.advance(1)
    await _follow(api, late, brand)
    assert await api.inbox(late) == [] and await _unread(api, late) == 0
    r = await api.client.post("/api/v1/notifications/read_all", headers=late.headers)
    assert r.json() == {"count": 0}
    async with transaction(api.app.state.sessionmaker) as session:
        old = await session.scalar(
            select(Notification.id).where(Notification.drop_id == earlier["id"])
        )
    r = await api.client.post(f"/api/v1/notifications/{old}/read", headers=late.headers)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    later = await api.create_drop(brand)
    assert [n["drop"]["id"] for n in await api.inbox(late)] == [later["id"]]


async def test_follow_unfollow_follow_shows_each_announcement_once(api: Api) -> None:
    brand, fan = await api.partner(), await api.signup()
    await _follow(api, fan, brand)
    api.clock.advance(10)
    await _follow(api, fan, brand)  # again: the same period
    one = await api.create_drop(brand)
    api.clock.advance(10)
    await _follow(api, fan, brand, "unfollow")
    api.clock.advance(10)
    await _follow(api, fan, brand, "unfollow")
    missed = await api.create_drop(brand)
    api.clock.advance(10)
    await _follow(api, fan, brand)
    three = await api.create_drop(brand)  # the instant the new period begins: covered
    ids = [n["drop"]["id"] for n in await api.inbox(fan)]
    assert ids == [three["id"], one["id"]] and missed["id"] not in ids
    assert await _unread(api, fan) == 2
    # Periods that begin and end at one instant cover nothing twice either.
    await _follow(api, fan, brand, "unfollow")
    await _follow(api, fan, brand)
    four = await api.create_drop(brand)
    assert [n["drop"]["id"] for n in await api.inbox(fan)] == [four["id"], three["id"], one["id"]]


async def test_pages_never_skip_or_repeat_across_an_announcement(
    api: Api, scheduler: Scheduler
) -> None:
    brand, other, fan = await api.partner(), await api.partner(), await api.signup()
    await _follow(api, fan, brand)
    reminded = await api.create_drop(other, in_=timedelta(minutes=30))
    await api.remind(fan, reminded["id"])
    for i in range(3):
        await api.create_drop(brand, in_=timedelta(hours=2 + i))
        api.clock.advance(60)
    api.clock.set(datetime.fromisoformat(reminded["launch_at"]) - timedelta(minutes=15))
    await scheduler.run_due()  # drop_soon, between the announcements and the next one
    first = await api.client.get("/api/v1/notifications", headers=fan.headers, params={"limit": 2})
    seen = [n["id"] for n in first.json()]
    await api.create_drop(brand, in_=timedelta(hours=6))  # announced between two page loads
    link = first.headers["link"].split(">")[0].lstrip("<")
    while link:
        r = await api.client.get(link, headers=fan.headers)
        seen += [n["id"] for n in r.json()]
        link = r.headers["link"].split(">")[0].lstrip("<") if "link" in r.headers else ""
    assert len(seen) == len(set(seen)) == 4 and seen == sorted(seen, reverse=True)
    fresh = await api.inbox(fan)
    assert len(fresh) == 5 and fresh[0]["id"] > max(seen)
    assert [n["type"] for n in fresh] == ["drop_announced", "drop_soon"] + ["drop_announced"] * 3
