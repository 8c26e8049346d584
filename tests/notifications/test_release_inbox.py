"""The inbox over read-time fan-out: pages stable across a release, exact unread counts,
and personal notifications (likes) merged with the drops' notices."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from dropbell.reminders.scheduler import Scheduler
from tests.helpers import Api, User, remind_with

pytestmark = pytest.mark.anyio


async def _unread(api: Api, user: User) -> int:
    r = await api.client.get("/api/v1/notifications/unread_count", headers=user.headers)
    return int(r.json()["count"])


async def _launch_all(api: Api, scheduler: Scheduler, drops: list[dict[str, Any]]) -> None:
    for drop in sorted(drops, key=lambda d: d["launch_at"]):
        api.clock.set(datetime.fromisoformat(drop["launch_at"]))
        await scheduler.run_due()


async def test_pages_never_skip_or_repeat_across_a_release(api: Api, scheduler: Scheduler) -> None:
    brand, shopper = await api.partner(), await api.signup()
    drops = [await api.create_drop(brand, in_=timedelta(hours=2 + i)) for i in range(6)]
    for drop in drops:
        await api.remind(shopper, drop["id"])
    await _launch_all(api, scheduler, drops[:5])  # five launches: five notices
    first = await api.client.get("/api/v1/notifications", headers=shopper.headers,
                                 params={"limit": 2})  # fmt: skip
    page_one = [n["id"] for n in first.json()]
    await _launch_all(api, scheduler, drops[5:])  # a release between two page loads
    seen = list(page_one)
    link = first.headers["link"].split(">")[0].lstrip("<")
    while link:
        r = await api.client.get(link, headers=shopper.headers)
        seen += [n["id"] for n in r.json()]
        link = r.headers["link"].split(">")[0].lstrip("<") if "link" in r.headers else ""
    assert len(seen) == len(set(seen)) == 5  # nothing twice, nothing skipped
    assert seen == sorted(seen, reverse=True)
    fresh = await api.inbox(shopper)
    assert len(fresh) == 6 and fresh[0]["id"] > max(seen)  # the new one leads a fresh page
    assert fresh[0]["drop"]["id"] == drops[5]["id"] and fresh[0]["type"] == "drop_live"
    # Ids grow with delivery: newest delivered first.
    assert [n["drop"]["id"] for n in fresh] == [d["id"] for d in reversed(drops)]


async def test_unread_counts_stay_exact_across_read_and_read_all(
    api: Api, scheduler: Scheduler
) -> None:
    brand, shopper, other = await api.partner(), await api.signup(), await api.signup()
    drops = [await api.create_drop(brand, in_=timedelta(hours=2 + i)) for i in range(3)]
    for drop in drops:
        await api.remind(shopper, drop["id"])
        await api.remind(other, drop["id"])
    await _launch_all(api, scheduler, drops[:2])
    assert await _unread(api, shopper) == 2
    # A like of the shopper's post: a personal notification beside the notices.
    post = await api.client.post("/api/v1/posts", headers=shopper.headers, json={"text": "hi"})
    await api.client.post(f"/api/v1/posts/{post.json()['id']}/like", headers=other.headers)
    assert await _unread(api, shopper) == 3
    live = (await api.inbox(shopper, **{"types[]": "drop_live"}))[0]
    r = await api.client.post(f"/api/v1/notifications/{live['id']}/read", headers=shopper.headers)
    assert r.status_code == 200 and r.json()["read"] is True
    assert await _unread(api, shopper) == 2
    assert await _unread(api, other) == 2  # the same notice, read by one shopper only
    assert [n["read"] for n in await api.inbox(other)] == [False, False]
    r = await api.client.post("/api/v1/notifications/read_all", headers=shopper.headers)
    assert r.json() == {"count": 2}
    assert await _unread(api, shopper) == 0
    assert all(n["read"] for n in await api.inbox(shopper))
    assert (await api.client.post("/api/v1/notifications/read_all",
                                  headers=shopper.headers)).json() == {"count": 0}  # fmt: skip
    await _launch_all(api, scheduler, drops[2:])  # what comes after read_all is unread
    assert await _unread(api, shopper) == 1
    assert [n["read"] for n in await api.inbox(shopper)][:2] == [False, True]


async def test_a_notice_is_not_anyone_elses_to_read(api: Api, scheduler: Scheduler) -> None:
    brand, shopper, stranger = await api.partner(), await api.signup(), await api.signup()
    drop = await api.create_drop(brand, in_=timedelta(hours=2))
    await api.remind(shopper, drop["id"])
    await _launch_all(api, scheduler, [drop])
    notice = (await api.inbox(shopper))[0]
    r = await api.client.post(f"/api/v1/notifications/{notice['id']}/read",
                              headers=stranger.headers)  # fmt: skip
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert await api.inbox(stranger) == []
    assert await _unread(api, shopper) == 1


async def test_each_shopper_sees_only_the_drops_and_leads_they_chose(
    api: Api, scheduler: Scheduler
) -> None:
    brand, ann, ben = await api.partner(), await api.signup(), await api.signup()
    drops = [await api.create_drop(brand, in_=timedelta(hours=2 + i)) for i in range(4)]
    for drop in drops[:2]:
        await remind_with(api, ann, drop["id"], [3600])
    for drop in drops[1:]:
        await remind_with(api, ben, drop["id"], [900])
    moments = sorted(
        datetime.fromisoformat(d["launch_at"]) - timedelta(seconds=lead)
        for d in drops
        for lead in (0, 900, 3600)
    )
    for moment in moments:
        api.clock.set(moment)
        await scheduler.run_due()

    async def newest(user: User) -> list[tuple[int, str, int | None]]:
        return [(n["drop"]["id"], n["type"], n["lead_seconds"])
                for n in await api.inbox(user, limit=3)]  # fmt: skip

    seen = {user.username: await newest(user) for user in (ann, ben)}
    first, second, third, fourth = (d["id"] for d in drops)
    assert seen[ann.username] == [
        (second, "drop_live", None),
        (second, "drop_soon", 3600),
        (first, "drop_live", None),
    ]
    assert seen[ben.username] == [
        (fourth, "drop_live", None),
        (fourth, "drop_soon", 900),
        (third, "drop_live", None),
    ]
    assert [await _unread(api, user) for user in (ann, ben)] == [4, 6]


async def test_opens_count_shoppers_once(api: Api, scheduler: Scheduler) -> None:
    brand, shopper = await api.partner(), await api.signup()
    drop = await api.create_drop(brand, in_=timedelta(hours=2))
    await api.remind(shopper, drop["id"])
    api.clock.set(datetime.fromisoformat(drop["launch_at"]) - timedelta(minutes=15))
    await scheduler.run_due()
    await _launch_all(api, scheduler, [drop])
    for notice in await api.inbox(shopper):
        await api.client.post(f"/api/v1/notifications/{notice['id']}/read",
                              headers=shopper.headers)  # fmt: skip
    stats = (
        await api.client.get(f"/api/v1/drops/{drop['id']}/stats", headers=brand.headers)
    ).json()
    assert stats["opened"] == 1  # one shopper opened two notices: the funnel counts one
    assert stats["lateness_ms"]["max"] == 0.0


async def test_the_live_hubs_unread_counts_are_each_shoppers_own(
    api: Api, scheduler: Scheduler
) -> None:
    """``unread_count_query`` correlated with a column two queries up (as the live hub
    runs it for every stream it holds): a notice one shopper read stays unread for the
    others (a regression: its NOT EXISTS once cross-joined the reminders instead)."""
    from sqlalchemy import select

    from dropbell.db import transaction
    from dropbell.notifications.audience import covers
    from dropbell.notifications.models import Notification
    from dropbell.notifications.service import unread_count_query
    from dropbell.reminders.models import Reminder

    brand, reader, other = await api.partner(), await api.signup(), await api.signup()
    drop = await api.create_drop(brand, in_=timedelta(hours=2))
    await api.remind(reader, drop["id"])
    await api.remind(other, drop["id"])
    await _launch_all(api, scheduler, [drop])
    notice = (await api.inbox(reader))[0]
    await api.client.post(f"/api/v1/notifications/{notice['id']}/read", headers=reader.headers)
    async with transaction(api.app.state.sessionmaker) as session:
        rows = await session.execute(
            select(Reminder.account_id, unread_count_query(Reminder.account_id))
            .join(Notification, covers(Reminder, Notification))
            .where(Notification.id == notice["id"])
        )
        counts = dict(rows.all())
    assert counts == {reader.id: 0, other.id: 1}
    assert await _unread(api, reader) == 0 and await _unread(api, other) == 1
