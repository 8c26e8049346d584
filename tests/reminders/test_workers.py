"""Several workers, crashes and hung workers: still exactly once (PRODUCT.md rule 3)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import func, select

from dropbell.db import make_engine, make_sessionmaker, transaction
from dropbell.models import Notification, ReminderJob
from dropbell.reminders import fanout
from dropbell.reminders.scheduler import Delivered, Scheduler
from tests.helpers import Api, User

pytestmark = pytest.mark.anyio

SUBSCRIBERS = 40


async def _big_drop(api: Api) -> tuple[User, list[User], dict]:  # type: ignore[type-arg]
    brand = await api.partner()
    drop = await api.create_drop(brand, in_=timedelta(hours=1))
    shoppers = [await api.signup() for _ in range(SUBSCRIBERS)]
    for s in shoppers:
        assert (await api.remind(s, drop["id"])).status_code == 200
    return brand, shoppers, drop


async def _counts(api: Api, drop_id: int) -> dict[str, int]:
    async with api.app.state.sessionmaker() as session:
        rows = await session.execute(
            select(Notification.type, func.count())
            .where(Notification.drop_id == drop_id)
            .group_by(Notification.type)
        )
        return {t: n for t, n in rows}


async def _per_account_max(api: Api, drop_id: int) -> int:
    async with api.app.state.sessionmaker() as session:
        sub = (
            select(func.count().label("n"))
            .where(Notification.drop_id == drop_id)
            .group_by(Notification.account_id, Notification.type)
            .subquery()
        )
        return int(await session.scalar(select(func.max(sub.c.n))) or 0)


def _launch(drop: dict) -> datetime:  # type: ignore[type-arg]
    return datetime.fromisoformat(drop["launch_at"])


async def test_two_workers_racing_deliver_once(api: Api, database_url: str) -> None:
    """Each worker has its own engine (its own connections), as separate processes would."""
    _, shoppers, drop = await _big_drop(api)
    settings = api.app.state.settings
    settings.fanout_batch_size = 3
    engines = [make_engine(database_url) for _ in range(3)]
    workers = [
        Scheduler(make_sessionmaker(e), api.clock, settings, worker_id=f"w{i}")
        for i, e in enumerate(engines)
    ]
    try:
        api.clock.set(_launch(drop) - timedelta(minutes=15))
        await asyncio.gather(*(w.run_due() for w in workers))
        api.clock.set(_launch(drop))
        await asyncio.gather(*(w.run_due() for w in workers))
    finally:
        for e in engines:
            await e.dispose()
    assert await _counts(api, drop["id"]) == {"drop_soon": SUBSCRIBERS, "drop_live": SUBSCRIBERS}
    assert await _per_account_max(api, drop["id"]) == 1
    for s in shoppers[:3]:
        assert await api.types(s) == ["drop_soon", "drop_live"]


class Crash(Exception):
    """Stands in for the process dying between two batches."""


async def test_fanout_killed_half_way_resumes_after_restart(api: Api) -> None:
    brand, _shoppers, drop = await _big_drop(api)
    settings = api.app.state.settings
    settings.fanout_batch_size = 7
    batches = 0

    async def die_after_three(delivered: Delivered) -> None:
        nonlocal batches
        batches += 1
        if batches == 3:
            raise Crash

    doomed = Scheduler(
        api.app.state.sessionmaker,
        api.clock,
        settings,
        worker_id="doomed",
        listeners=[die_after_three],
    )
    api.clock.set(_launch(drop))
    with pytest.raises(Crash):
        await doomed.run_due()
    assert (await _counts(api, drop["id"]))["drop_live"] == 21

    restarted = Scheduler(api.app.state.sessionmaker, api.clock, settings, worker_id="restarted")
    assert await restarted.run_due() == 0  # the dead worker's lease still holds
    api.clock.advance(timedelta(seconds=settings.job_lease_seconds + 1))
    assert await restarted.run_due() == 1
    assert await _counts(api, drop["id"]) == {"drop_live": SUBSCRIBERS}
    assert await _per_account_max(api, drop["id"]) == 1
    stats = (
        await api.client.get(f"/api/v1/drops/{drop['id']}/stats", headers=brand.headers)
    ).json()
    assert stats["notified_live"] == SUBSCRIBERS
    assert stats["reminders"] == SUBSCRIBERS


async def test_a_restarted_worker_with_the_same_name_takes_its_job_back_at_once(api: Api) -> None:
    _, _, drop = await _big_drop(api)
    settings = api.app.state.settings
    settings.fanout_batch_size = 10

    async def crash(delivered: Delivered) -> None:
        raise Crash

    worker = Scheduler(
        api.app.state.sessionmaker, api.clock, settings, worker_id="same", listeners=[crash]
    )
    api.clock.set(_launch(drop))
    with pytest.raises(Crash):
        await worker.run_due()
    worker.listeners.clear()
    assert await worker.run_due() == 1
    assert await _counts(api, drop["id"]) == {"drop_live": SUBSCRIBERS}


async def test_a_hung_worker_that_wakes_up_does_not_deliver_again(api: Api) -> None:
    _, _, drop = await _big_drop(api)
    settings = api.app.state.settings
    settings.fanout_batch_size = 5
    hang = asyncio.Event()
    resume = asyncio.Event()

    async def hang_after_first_batch(delivered: Delivered) -> None:
        if not hang.is_set():
            hang.set()
            await resume.wait()  # SIGSTOP, in effect

    sleepy = Scheduler(
        api.app.state.sessionmaker,
        api.clock,
        settings,
        worker_id="sleepy",
        listeners=[hang_after_first_batch],
    )
    api.clock.set(_launch(drop))
    sleepy_run = asyncio.create_task(sleepy.run_due())
    await hang.wait()
    api.clock.advance(timedelta(seconds=settings.job_lease_seconds + 1))
    other = Scheduler(api.app.state.sessionmaker, api.clock, settings, worker_id="other")
    assert await other.run_due() == 1
    resume.set()
    await sleepy_run
    assert await _counts(api, drop["id"]) == {"drop_live": SUBSCRIBERS}
    async with api.app.state.sessionmaker() as session:
        job = await session.scalar(select(ReminderJob).where(ReminderJob.kind == "drop_live"))
        assert job is not None and job.state == "done" and job.delivered == SUBSCRIBERS


async def test_a_batch_written_again_adds_only_what_is_missing(api: Api) -> None:
    """Exactly once does not rest on the cursor alone: a range partly delivered already
    (its first half, here) gets only its missing rows, never a second copy."""
    _, _, drop = await _big_drop(api)
    api.clock.set(_launch(drop))
    job = await Scheduler(api.app.state.sessionmaker, api.clock, api.app.state.settings).claim()
    assert job is not None and job.kind == "drop_soon"
    deliver = partial(
        fanout.deliver_batch,
        job_id=job.id,
        drop_id=job.drop_id,
        kind=job.kind,
        due_at=job.due_at,
        cursor=0,
    )
    async with transaction(api.app.state.sessionmaker) as session:
        assert (await deliver(session, batch_size=SUBSCRIBERS // 2)).inserted == SUBSCRIBERS // 2
    async with transaction(api.app.state.sessionmaker) as session:
        again = await deliver(session, batch_size=SUBSCRIBERS)
        assert again.inserted == SUBSCRIBERS - SUBSCRIBERS // 2
    assert await _counts(api, drop["id"]) == {"drop_soon": SUBSCRIBERS}
    assert await _per_account_max(api, drop["id"]) == 1
