"""Crashes, expired leases and racing workers: nothing lost, nothing pushed twice but
what was in flight at a crash."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from dropbell.clock import FakeClock
from dropbell.config import Settings
from dropbell.context import Context
from dropbell.db import make_engine, make_sessionmaker, transaction
from dropbell.push import keys
from dropbell.push.jobs import PushWorker
from dropbell.push.testservice import Device
from tests.push.helpers import PushApi

pytestmark = pytest.mark.anyio

DEVICES = 10  # push_batch_size is 4: three ledger batches


@pytest.fixture
async def second_worker(
    database_url: str, clock: FakeClock, settings: Settings
) -> AsyncIterator[PushWorker]:
    """Another process's worker: its own engine and connections."""
    engine = make_engine(database_url)
    worker = PushWorker(make_sessionmaker(engine), clock, settings, worker_id="push-2")
    yield worker
    await worker.aclose()
    await engine.dispose()


async def _devices(push: PushApi) -> tuple[dict[str, object], list[Device]]:
    drop = await push.drop()
    devices = [(await push.subscriber(drop))[1] for _ in range(DEVICES)]
    return drop, devices


def _copies(push: PushApi) -> Counter[str]:
    return Counter(r.token for r in push.service.received)


async def test_killed_mid_batch_resends_at_most_what_was_in_flight(
    push: PushApi, push_worker: PushWorker, second_worker: PushWorker, clock: FakeClock
) -> None:
    drop, devices = await _devices(push)
    await push.release(drop)

    # Worker 1 claims, writes the first ledger batch, sends two of its four pushes, and
    # dies before it records any outcome.
    job = await push_worker.claim()
    assert job is not None
    step = await push_worker.step(job)
    assert len(step.targets) == 4
    async with transaction(push.sessionmaker) as session:
        key = await keys.current_key(Context(session, clock, push_worker.settings))
        messages = await push_worker._messages(session, job)
        assert messages is not None
        message = messages["en"]  # the devices' accounts speak English
    in_flight = step.targets[:2]
    await push_worker.sender.send_many(key, message, in_flight)

    assert await second_worker.run_due() == 0  # the lease still holds
    clock.advance(push_worker.settings.job_lease_seconds + 1)
    assert await second_worker.run_due() == 1

    copies = _copies(push)
    assert set(copies) == {d.token for d in devices}  # none lost
    twice = {token for token, n in copies.items() if n > 1}
    sent_before = {t.endpoint.rsplit("/", 1)[1] for t in in_flight}
    assert twice <= sent_before and max(copies.values()) == 2
    assert await push.ledger() == {"sent": DEVICES}


async def test_a_crash_between_batches_repeats_nothing(
    push: PushApi, push_worker: PushWorker, second_worker: PushWorker, clock: FakeClock
) -> None:
    drop, devices = await _devices(push)
    await push.release(drop)
    job = await push_worker.claim()
    assert job is not None
    async with transaction(push.sessionmaker) as session:
        key = await keys.current_key(Context(session, clock, push_worker.settings))
        messages = await push_worker._messages(session, job)
        assert messages is not None
        message = messages["en"]  # the devices' accounts speak English
    step = await push_worker.step(job)
    await push_worker.record(job, await push_worker.sender.send_many(key, message, step.targets))
    # ... and dies here, its first batch recorded.
    clock.advance(push_worker.settings.job_lease_seconds + 1)
    await second_worker.run_due()
    assert _copies(push) == Counter({d.token: 1 for d in devices})


async def test_a_worker_whose_lease_ran_out_stops(
    push: PushApi, push_worker: PushWorker, second_worker: PushWorker, clock: FakeClock
) -> None:
    drop, devices = await _devices(push)
    await push.release(drop)
    job = await push_worker.claim()  # then hangs past its lease
    assert job is not None
    clock.advance(push_worker.settings.job_lease_seconds + 1)
    await second_worker.run_due()
    await push_worker.work(job)  # wakes up: the job is no longer its own
    assert _copies(push) == Counter({d.token: 1 for d in devices})


async def test_racing_workers_push_each_once(
    push: PushApi, push_worker: PushWorker, second_worker: PushWorker
) -> None:
    drop, devices = await _devices(push)
    await push.release(drop)
    await asyncio.gather(push_worker.run_due(), second_worker.run_due())
    assert _copies(push) == Counter({d.token: 1 for d in devices})
    assert await push.ledger() == {"sent": DEVICES}
