"""Several workers, crashes and hung workers: still exactly once (product.md rule 3).

A release is one transaction (the notice row and the job's state), so a worker that
dies mid-release leaves nothing behind, and the notice's unique job key makes a second
copy impossible whoever tries.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dropbell.db import make_engine, make_sessionmaker, transaction
from dropbell.models import Notification, ReminderJob
from dropbell.reminders.scheduler import Released, Scheduler
from tests.helpers import Api, User

pytestmark = pytest.mark.anyio

SUBSCRIBERS = 12


async def _big_drop(api: Api) -> tuple[User, list[User], dict]:  # type: ignore[type-arg]
    brand = await api.partner()
    drop = await api.create_drop(brand, in_=timedelta(hours=1))
    shoppers = [await api.signup() for _ in range(SUBSCRIBERS)]
    for s in shoppers:
        assert (await api.remind(s, drop["id"])).status_code == 200
    return brand, shoppers, drop


async def _notices(api: Api, drop_id: int) -> dict[str, int]:
    async with api.app.state.sessionmaker() as session:
        rows = await session.execute(
            select(Notification.type, func.count())
            .where(
                Notification.drop_id == drop_id,
                Notification.account_id.is_(None),
                Notification.job_id.is_not(None),  # the scheduler's (not the announcement)
            )
            .group_by(Notification.type)
        )
        return {t: n for t, n in rows}


def _launch(drop: dict) -> datetime:  # type: ignore[type-arg]
    return datetime.fromisoformat(drop["launch_at"])


async def _stats(api: Api, brand: User, drop: dict) -> dict[str, Any]:  # type: ignore[type-arg]
    r = await api.client.get(f"/api/v1/drops/{drop['id']}/stats", headers=brand.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_three_workers_racing_release_each_notice_once(api: Api, database_url: str) -> None:
    """Each worker has its own engine (its own connections), as separate processes would."""
    brand, shoppers, drop = await _big_drop(api)
    settings = api.app.state.settings
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
    assert await _notices(api, drop["id"]) == {"drop_soon": 1, "drop_live": 1}
    for s in shoppers:
        assert await api.types(s) == ["drop_soon", "drop_live"]
    stats = await _stats(api, brand, drop)
    assert (stats["notified_soon"], stats["notified_live"]) == (SUBSCRIBERS, SUBSCRIBERS)


class Crash(Exception):
    """Stands in for the process dying in the middle of a release."""


async def test_a_worker_dying_mid_release_leaves_nothing_and_another_releases(api: Api) -> None:
    brand, shoppers, drop = await _big_drop(api)
    settings = api.app.state.settings
    sessionmaker = make_sessionmaker(api.app.state.engine)

    @event.listens_for(sessionmaker.class_.sync_session_class, "before_commit")
    def die(session: Session) -> None:
        if any(isinstance(o, Notification) for o in session.identity_map.values()):
            raise Crash

    doomed = Scheduler(sessionmaker, api.clock, settings, worker_id="doomed")
    api.clock.set(_launch(drop))
    try:
        with pytest.raises(Crash):
            await doomed.run_due()
    finally:
        event.remove(sessionmaker.class_.sync_session_class, "before_commit", die)
    assert await _notices(api, drop["id"]) == {}
    assert await api.types(shoppers[0]) == []

    restarted = Scheduler(api.app.state.sessionmaker, api.clock, settings, worker_id="restarted")
    assert await restarted.run_due() == 1  # the launch (the doomed worker skipped the "soon")
    assert await _notices(api, drop["id"]) == {"drop_live": 1}
    for s in shoppers:
        assert await api.types(s) == ["drop_live"]
    assert (await _stats(api, brand, drop))["notified_live"] == SUBSCRIBERS


async def test_a_failing_listener_never_repeats_a_release(api: Api) -> None:
    _, shoppers, drop = await _big_drop(api)

    async def broken(released: Released) -> None:
        raise Crash

    worker = Scheduler(
        api.app.state.sessionmaker, api.clock, api.app.state.settings, listeners=[broken]
    )
    api.clock.set(_launch(drop))
    assert await worker.run_due() == 2
    assert await worker.run_due() == 0
    assert await _notices(api, drop["id"]) == {"drop_live": 1}
    assert await api.types(shoppers[0]) == ["drop_live"]


async def test_a_second_copy_of_a_notice_is_refused_by_the_database(api: Api) -> None:
    """Exactly once does not rest on the job's state alone: the unique job key refuses a
    second notice for the same job, from any writer."""
    _, _, drop = await _big_drop(api)
    api.clock.set(_launch(drop))
    await Scheduler(api.app.state.sessionmaker, api.clock, api.app.state.settings).run_due()
    async with api.app.state.sessionmaker() as session:
        notice = await session.scalar(
            select(Notification).where(
                Notification.drop_id == drop["id"], Notification.job_id.is_not(None)
            )
        )
        assert notice is not None
        session.add(
            Notification(
                type=notice.type,
                drop_id=notice.drop_id,
                job_id=notice.job_id,
                due_at=notice.due_at,
                created_at=api.clock.now(),
            )
        )
        with pytest.raises(IntegrityError):
            await session.flush()


async def test_a_count_cut_short_is_taken_up_again_and_counted_once(api: Api) -> None:
    brand, _, drop = await _big_drop(api)
    settings = api.app.state.settings
    api.clock.set(_launch(drop))
    worker = Scheduler(api.app.state.sessionmaker, api.clock, settings)
    assert await worker.release_next() is True  # the stale "soon": skipped
    assert isinstance(await worker.release_next(), Released)  # released, not yet counted
    assert (await _stats(api, brand, drop))["notified_live"] == 0
    assert await worker.run_due() == 0  # nothing more to release; the count is taken up
    assert await worker.run_due() == 0
    assert (await _stats(api, brand, drop))["notified_live"] == SUBSCRIBERS
    async with transaction(api.app.state.sessionmaker) as session:
        job = await session.scalar(select(ReminderJob).where(ReminderJob.kind == "drop_live"))
        assert job is not None and job.state == "done" and job.delivered == SUBSCRIBERS
