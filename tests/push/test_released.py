"""End to end: the reminder engine releases a notice, the push follows.

These drive the real flow only — create a drop, Remind me, move the clock, run the
scheduler — and expect the scheduler to queue the push in the transaction that
releases the notice (``dropbell.push.jobs.enqueue``); nothing here queues it by hand.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from dropbell.push.jobs import PushWorker
from dropbell.reminders.scheduler import Scheduler
from tests.helpers import Api, iso
from tests.push.helpers import LEAD, PushApi, launch

pytestmark = pytest.mark.anyio


async def _types(push: PushApi, token: str) -> list[str]:
    return [r.payload["type"] for r in push.service.for_token(token)]


async def test_lead_and_launch_are_pushed(
    api: Api, push: PushApi, scheduler: Scheduler, push_worker: PushWorker
) -> None:
    drop = await push.drop()
    _, device = await push.subscriber(drop)
    _, bystander = await push.subscriber()
    api.clock.set(launch(drop) - LEAD)
    await scheduler.run_due()
    await push_worker.run_due()
    assert await _types(push, device.token) == ["drop_soon"]
    api.clock.set(launch(drop))
    await scheduler.run_due()
    await push_worker.run_due()
    assert await _types(push, device.token) == ["drop_soon", "drop_live"]
    assert push.service.for_token(bystander.token) == []
    [_, live] = push.service.for_token(device.token)
    assert live.headers["urgency"] == "high"
    assert live.payload["url"].endswith(f"/drops/{drop['id']}?source=push")
    assert push.service.problems == []


async def test_a_late_subscriber_gets_no_back_dated_lead_push(
    api: Api, push: PushApi, scheduler: Scheduler, push_worker: PushWorker
) -> None:
    drop = await push.drop()
    api.clock.set(launch(drop) - LEAD)
    await scheduler.run_due()
    api.clock.advance(1)
    _, late = await push.subscriber(drop)
    await push_worker.run_due()
    assert push.service.for_token(late.token) == []
    api.clock.set(launch(drop))
    await scheduler.run_due()
    await push_worker.run_due()
    assert await _types(push, late.token) == ["drop_live"]


async def test_reschedule_and_cancel_are_pushed(
    api: Api, push: PushApi, scheduler: Scheduler, push_worker: PushWorker
) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand, in_=timedelta(hours=2))
    _, device = await push.subscriber(drop)
    r = await api.client.patch(
        f"/api/v1/drops/{drop['id']}",
        headers=brand.headers,
        json={"launch_at": iso(launch(drop) + timedelta(hours=1))},
    )
    assert r.status_code == 200, r.text
    await scheduler.run_due()
    await push_worker.run_due()
    r = await api.client.post(f"/api/v1/drops/{drop['id']}/cancel", headers=brand.headers)
    assert r.status_code == 200, r.text
    await scheduler.run_due()
    await push_worker.run_due()
    assert await _types(push, device.token) == ["drop_rescheduled", "drop_cancelled"]


async def test_the_drop_stats_count_pushes(
    api: Api, push: PushApi, scheduler: Scheduler, push_worker: PushWorker
) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand)
    _, device = await push.subscriber(drop)
    _, gone = await push.subscriber(drop)
    push.service.script(gone.token, 410)
    api.clock.set(launch(drop))
    await scheduler.run_due()
    await push_worker.run_due()
    r = await api.client.get(f"/api/v1/drops/{drop['id']}/stats", headers=brand.headers)
    assert r.status_code == 200, r.text
    stats = r.json()["push"]
    assert stats["sent"] == 1 and stats["removed_subscriptions"] == 1
    assert stats["lateness_ms"]["p50"] == 0
    assert len(push.service.for_token(device.token)) == 1
