"""The reminder engine: releases each due notice with one commit, whatever its audience.

Scheduled work lives in ``reminder_jobs`` rows, never in a process's memory. A worker
claims the oldest due job with ``FOR UPDATE SKIP LOCKED`` (on SQLite the write lock
taken at BEGIN does the same) and, in the same transaction, writes the notice — ONE
row in ``notifications``, unique per job — and marks the job done. Subscribers find the
notice through their reminders when they read (read-time fan-out,
:mod:`dropbell.notifications.audience`), so the work at the deadline does not grow with
the number of subscribers.

A "soon" notice whose drop already launched (downtime) is skipped, never sent late. A
worker that dies mid-release rolls back and another releases the job; a hung one's
transaction is ended by PostgreSQL's idle-in-transaction timeout (the job lease).

After the release has committed, listeners run (live events, metrics) and the notice
is counted: how many subscribers it reached, for the brand's stats, off the deadline's
path and outside the write lock (``counted_at``; a count interrupted by a crash is taken
up again).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select, type_coerce
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dropbell import metrics
from dropbell.clock import Clock
from dropbell.config import Settings
from dropbell.db import UTCDateTime, transaction
from dropbell.drops.models import Drop, DropStatus
from dropbell.notifications.audience import audience_accounts
from dropbell.notifications.models import Notification
from dropbell.push import jobs as push_jobs
from dropbell.reminders.models import DONE, PENDING, SKIPPED, SOON, Delivery, ReminderJob
from dropbell.workers import Worker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Released:
    """A notice that was released; handed to listeners after commit."""

    notification_id: int
    job_id: int
    drop_id: int
    kind: str
    due_at: datetime
    released_at: datetime

    @property
    def lateness_seconds(self) -> float:
        return max(0.0, (self.released_at - self.due_at).total_seconds())


Listener = Callable[[Released], Awaitable[None]]


class _Publisher(Protocol):
    async def notice_released(self, notification_id: int, drop_id: int) -> None: ...


def scheduler_listeners(publisher: _Publisher) -> list[Listener]:
    """What runs after each release commits: its live event to every API process."""

    async def publish_live(released: Released) -> None:
        await publisher.notice_released(released.notification_id, released.drop_id)

    return [publish_live]


class Scheduler(Worker):
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        settings: Settings,
        *,
        worker_id: str | None = None,
        listeners: list[Listener] | None = None,
    ) -> None:
        super().__init__(sessionmaker, clock, settings, worker_id)  # reads: count_next
        self.listeners: list[Listener] = list(listeners or [])

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set: release due notices, then nap until the next one."""
        log.info("scheduler %s started", self.worker_id)
        poll = self.settings.scheduler_poll_seconds

        async def step() -> datetime | None:
            await self.run_due()
            return await self.next_due_at()

        def failed(exc: Exception) -> float:
            if isinstance(exc, (OperationalError, InterfaceError, DBAPIError, OSError)):
                log.warning("database unavailable (%s); retrying", type(exc).__name__)
                return min(1.0, poll * 4)
            # A bug must not silently stop reminders for the whole process.
            log.exception("scheduler error; retrying")
            return 1.0

        await self.loop(stop, step, failed)
        log.info("scheduler %s stopped", self.worker_id)

    async def run_due(self) -> int:
        """Release every notice that is due now, then count them. Returns how many jobs
        were released or skipped."""
        worked = 0
        while (released := await self.release_next()) is not None:
            worked += 1
            if isinstance(released, Released):
                await self._released(released)
        while await self.count_next():
            pass
        return worked

    async def next_due_at(self) -> datetime | None:
        """When the next pending job comes due."""
        async with transaction(self.sessionmaker) as session:
            due: datetime | None = await session.scalar(
                select(type_coerce(func.min(ReminderJob.due_at), UTCDateTime)).where(
                    ReminderJob.state == PENDING
                )
            )
        return due

    async def release_next(self) -> Released | bool | None:
        """Claim the oldest due job and release its notice, in one transaction.

        Returns what was released, True for a job skipped (a stale "soon"), None when
        nothing is due.
        """
        async with transaction(self.sessionmaker) as session:
            now = self.clock.now()
            job = await session.scalar(
                select(ReminderJob)
                .where(ReminderJob.state == PENDING, ReminderJob.due_at <= now)
                .order_by(ReminderJob.due_at, ReminderJob.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if job is None:
                return None
            job.attempts += 1
            drop = await session.get_one(Drop, job.drop_id)
            if job.kind == SOON:
                status = drop.status_at(now)
                if status != DropStatus.SCHEDULED:
                    # Downtime: the drop already launched (or was called off): never a stale
                    # "soon". Nothing to count either.
                    job.state, job.finished_at, job.counted_at = SKIPPED, now, now
                    log.info("job %s: drop %s already %s; soon notice skipped",
                             job.id, drop.id, status)  # fmt: skip
                    return True
            released_at = self.clock.now()
            notice = Notification(
                account_id=None,
                type=job.kind,
                drop_id=job.drop_id,
                job_id=job.id,
                lead_seconds=job.lead_seconds,
                due_at=job.due_at,
                created_at=released_at,
            )
            session.add(notice)
            job.state, job.finished_at = DONE, released_at
            await session.flush()
            # The push follows the notice: queued in the same commit (one row, whatever
            # the audience), so a released notice is never left without its push.
            await push_jobs.enqueue(
                session,
                notification_id=notice.id,
                drop_id=job.drop_id,
                kind=job.kind,
                due_at=job.due_at,
                expires_at=push_jobs.expires_at_for(
                    job.kind, due_at=job.due_at, launch_at=drop.launch_at
                ),
            )
            return Released(notice.id, job.id, job.drop_id, job.kind, job.due_at, released_at)

    async def _released(self, released: Released) -> None:
        """After commit: metrics and listeners (live events)."""
        metrics.RELEASED.labels(released.kind).inc()
        metrics.LATENESS_SECONDS.labels(released.kind).observe(released.lateness_seconds)
        log.info(
            "job %s (%s, drop %s): notice %s released %.0f ms after due",
            released.job_id,
            released.kind,
            released.drop_id,
            released.notification_id,
            released.lateness_seconds * 1000,
        )
        for listener in self.listeners:
            try:
                await listener(released)
            except Exception:  # a listener must never undo or repeat a release
                log.exception("listener failed for notice %s", released.notification_id)

    async def count_next(self) -> bool:
        """Count one released, uncounted notice's audience for the stats. False when none.

        The audience of a released notice no longer changes (reminders set later began
        after it was due; ones undone later ended after it was released), so the count is
        exact whenever it is taken, and it is taken outside any write transaction: at
        10,000,000 subscribers it reads for a second or two, and on SQLite a write
        transaction holds the database's one write lock (every Remind me would wait).
        Only the result is written, in a short transaction that first checks nobody else
        recorded it meanwhile.
        """
        started = time.perf_counter()
        async with transaction(self.reads) as session:
            job = await session.scalar(
                select(ReminderJob)
                .where(ReminderJob.state == DONE, ReminderJob.counted_at.is_(None))
                .order_by(ReminderJob.id)
                .limit(1)
            )
            if job is None:
                return False
            notice = await session.scalar(select(Notification).where(
                Notification.job_id == job.id, Notification.account_id.is_(None)
            ))  # fmt: skip
            count: int | None = None
            if notice is not None:
                audience = audience_accounts(notice).subquery()
                count = await session.scalar(select(func.count()).select_from(audience)) or 0
        async with transaction(self.sessionmaker) as session:
            row = await session.scalar(
                select(ReminderJob)
                .where(ReminderJob.id == job.id, ReminderJob.counted_at.is_(None))
                .with_for_update(skip_locked=True)
            )
            if row is None:
                return True  # another worker recorded it (or is recording it) meanwhile
            if notice is not None and count is not None:
                row.delivered = count
                session.add(Delivery(job_id=row.id, count=count, delivered_at=notice.created_at))
            row.counted_at = self.clock.now()
        metrics.NOTIFICATIONS.labels(row.kind).inc(row.delivered)
        metrics.COUNT_SECONDS.observe(time.perf_counter() - started)
        return True
