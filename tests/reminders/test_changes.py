"""Reschedules, cancellations and downtime (product.md rule 5)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from dropbell.reminders.scheduler import Scheduler
from tests.helpers import Api, User, iso

pytestmark = pytest.mark.anyio

MIN = timedelta(minutes=1)


async def _drop_with_subscriber(api: Api, in_: timedelta) -> tuple[User, User, dict]:  # type: ignore[type-arg]
    brand = await api.partner()
    shopper = await api.signup()
    drop = await api.create_drop(brand, in_=in_)
    assert (await api.remind(shopper, drop["id"])).status_code == 200
    return brand, shopper, drop


async def _walk(api: Api, scheduler: Scheduler, until: datetime, step: timedelta = MIN) -> None:
    """Move the clock minute by minute, letting the scheduler run at each step."""
    while api.clock.now() < until:
        api.clock.set(min(until, api.clock.now() + step))
        await scheduler.run_due()


async def _reschedule(api: Api, brand: User, drop_id: int, when: datetime) -> dict:  # type: ignore[type-arg]
    r = await api.client.patch(
        f"/api/v1/drops/{drop_id}", headers=brand.headers, json={"launch_at": iso(when)}
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_reschedule_later_moves_every_pending_notice(api: Api, scheduler: Scheduler) -> None:
    brand, shopper, drop = await _drop_with_subscriber(api, timedelta(hours=1))
    start = api.clock.now()
    await _walk(api, scheduler, start + timedelta(minutes=10))
    new_launch = start + timedelta(hours=3)
    moved = await _reschedule(api, brand, drop["id"], new_launch)
    assert moved["launch_at"] == iso(new_launch) and moved["status"] == "scheduled"
    await scheduler.run_due()
    assert await api.types(shopper) == ["drop_rescheduled"]
    note = (await api.inbox(shopper))[0]
    assert note["drop"]["launch_at"] == iso(new_launch)

    # Nothing at the old times.
    await _walk(api, scheduler, start + timedelta(hours=1, minutes=5))
    assert await api.types(shopper) == ["drop_rescheduled"]
    # Everything at the new ones.
    await _walk(api, scheduler, new_launch - timedelta(minutes=15))
    assert await api.types(shopper) == ["drop_rescheduled", "drop_soon"]
    soon = (await api.inbox(shopper))[0]
    assert soon["created_at"] == iso(new_launch - timedelta(minutes=15))
    await _walk(api, scheduler, new_launch)
    assert await api.types(shopper) == ["drop_rescheduled", "drop_soon", "drop_live"]


async def test_reschedule_after_the_soon_notice_sends_a_new_one(
    api: Api, scheduler: Scheduler
) -> None:
    brand, shopper, drop = await _drop_with_subscriber(api, timedelta(hours=1))
    start = api.clock.now()
    await _walk(api, scheduler, start + timedelta(minutes=50))
    assert await api.types(shopper) == ["drop_soon"]
    new_launch = start + timedelta(hours=2)
    await _reschedule(api, brand, drop["id"], new_launch)
    await _walk(api, scheduler, start + timedelta(hours=2, minutes=1))
    assert await api.types(shopper) == ["drop_soon", "drop_rescheduled", "drop_soon", "drop_live"]


async def test_reschedule_earlier_inside_the_lead_time_skips_soon(
    api: Api, scheduler: Scheduler
) -> None:
    brand, shopper, drop = await _drop_with_subscriber(api, timedelta(hours=1))
    start = api.clock.now()
    new_launch = start + timedelta(minutes=10)  # the new soon time is already past
    await _reschedule(api, brand, drop["id"], new_launch)
    await _walk(api, scheduler, start + timedelta(hours=2))
    assert await api.types(shopper) == ["drop_rescheduled", "drop_live"]
    live = (await api.inbox(shopper))[0]
    assert live["created_at"] == iso(new_launch)


async def test_reschedule_earlier_keeps_a_soon_notice_that_is_still_ahead(
    api: Api, scheduler: Scheduler
) -> None:
    brand, shopper, drop = await _drop_with_subscriber(api, timedelta(days=1))
    start = api.clock.now()
    new_launch = start + timedelta(hours=1)
    await _reschedule(api, brand, drop["id"], new_launch)
    await _walk(api, scheduler, new_launch - timedelta(minutes=15))
    assert await api.types(shopper) == ["drop_rescheduled", "drop_soon"]
    await _walk(api, scheduler, start + timedelta(days=1, minutes=1))
    assert await api.types(shopper) == ["drop_rescheduled", "drop_soon", "drop_live"]


async def test_cancel_tells_subscribers_and_nothing_pending_fires(
    api: Api, scheduler: Scheduler
) -> None:
    brand, shopper, drop = await _drop_with_subscriber(api, timedelta(hours=1))
    r = await api.client.post(f"/api/v1/drops/{drop['id']}/cancel", headers=brand.headers)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    await _walk(api, scheduler, api.clock.now() + timedelta(hours=2))
    assert await api.types(shopper) == ["drop_cancelled"]
    r = await api.client.post(f"/api/v1/drops/{drop['id']}/cancel", headers=brand.headers)
    assert r.status_code == 409 and r.json()["code"] == "drop_cancelled"
    r = await api.client.patch(
        f"/api/v1/drops/{drop['id']}",
        headers=brand.headers,
        json={"launch_at": iso(api.clock.now() + timedelta(hours=1))},
    )
    assert r.status_code == 409


async def test_launched_drops_cannot_be_moved_or_cancelled(api: Api, scheduler: Scheduler) -> None:
    brand, _, drop = await _drop_with_subscriber(api, timedelta(hours=1))
    api.clock.advance(timedelta(hours=1))
    r = await api.client.post(f"/api/v1/drops/{drop['id']}/cancel", headers=brand.headers)
    assert r.status_code == 409 and r.json()["code"] == "drop_live"
    r = await api.client.patch(
        f"/api/v1/drops/{drop['id']}",
        headers=brand.headers,
        json={"launch_at": iso(api.clock.now() + timedelta(hours=1))},
    )
    assert r.status_code == 409 and r.json()["code"] == "drop_live"


async def test_reschedule_into_the_past_is_refused(api: Api) -> None:
    brand, _, drop = await _drop_with_subscriber(api, timedelta(hours=1))
    r = await api.client.patch(
        f"/api/v1/drops/{drop['id']}",
        headers=brand.headers,
        json={"launch_at": iso(api.clock.now() - MIN)},
    )
    assert r.status_code == 422
    assert (await api.client.get(f"/api/v1/drops/{drop['id']}")).json()["launch_at"] == drop[
        "launch_at"
    ]


async def test_downtime_across_the_soon_time_delivers_it_late(
    api: Api, scheduler: Scheduler
) -> None:
    _, shopper, _drop = await _drop_with_subscriber(api, timedelta(hours=1))
    api.clock.advance(timedelta(minutes=50))  # down from T-60 to T-10: no scheduler ran
    await scheduler.run_due()
    assert await api.types(shopper) == ["drop_soon"]
    await _walk(api, scheduler, api.clock.now() + timedelta(minutes=15))
    assert await api.types(shopper) == ["drop_soon", "drop_live"]


async def test_downtime_across_both_times_sends_the_launch_only(
    api: Api, scheduler: Scheduler
) -> None:
    brand, shopper, drop = await _drop_with_subscriber(api, timedelta(hours=1))
    api.clock.advance(timedelta(hours=3))  # down across T-15 and T-0
    await scheduler.run_due()
    await scheduler.run_due()
    assert await api.types(shopper) == ["drop_live"]
    stats = (
        await api.client.get(f"/api/v1/drops/{drop['id']}/stats", headers=brand.headers)
    ).json()
    assert stats["notified_soon"] == 0 and stats["notified_live"] == 1
