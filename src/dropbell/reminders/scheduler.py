"""The reminder engine: claims due jobs atomically and fans them out, batch by batch.

Scheduled work lives in ``reminder_jobs`` rows, never in a process's memory.
A worker claims a due job with ``FOR UPDATE SKIP LOCKED`` (on SQLite the write
lock taken at BEGIN does the same) and holds it for a lease it renews with
every batch. Each batch — the notifications, the new cursor, the delivery
record — commits as one transaction, so a fan-out killed half way resumes
after the last committed batch, and a worker that lost its lease (hung,
resumed) notices on its next batch and stops without delivering again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, select, type_coerce
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dropbell import metrics
from dropbell.clock import Clock
from dropbell.config import Settings
from dropbell.db import UTCDateTime, transaction
from dropbell.drops.models import Drop
from dropbell.reminders import fanout
from dropbell.reminders.models import (
    DONE,
    PENDING,
    RUNNING,
    SKIPPED,
    SOON,
    Delivery,
    ReminderJob,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    drop_id: int
    kind: str
    due_at: datetime


@dataclass(frozen=True)
class Delivered:
    """What one committed batch delivered; handed to listeners after commit."""

    job: ClaimedJob
    count: int
    low: int  # subscriber ids in (low, high]; high None means to the end
    high: int | None
    committed_at: datetime

    @property
    def lateness_seconds(self) -> float:
        return max(0.0, (self.committed_at - self.job.due_at).total_seconds())


Listener = Callable[[Delivered], Awaitable[None]]


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Scheduler:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        settings: Settings,
        *,
        worker_id: str | None = None,
        listeners: list[Listener] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.settings = settings
        self.worker_id = worker_id or default_worker_id()
        self.listeners: list[Listener] = list(listeners or [])
        self.wake = asyncio.Event()

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.job_lease_seconds)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set: fire due jobs, then nap until the next one (or a poke)."""
        log.info("scheduler %s started", self.worker_id)
        poll = self.settings.scheduler_poll_seconds
        while not stop.is_set():
            next_due: datetime | None = None
            try:
                await self.run_due()
                next_due = await self.next_due_at()
            except (OperationalError, InterfaceError, DBAPIError, OSError) as exc:
                log.warning("database unavailable (%s); retrying", type(exc).__name__)
                await asyncio.sleep(min(1.0, poll * 4))
                continue
            except Exception:
                # A bug must not silently stop reminders for the whole process.
                log.exception("scheduler error; retrying")
                await asyncio.sleep(1.0)
                continue
            wake_at = next_due or self.clock.now() + timedelta(seconds=poll)
            self.wake.clear()
            sleeper = asyncio.create_task(self.clock.sleep_until(wake_at, at_most=poll))
            waker = asyncio.create_task(self.wake.wait())
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait({sleeper, waker, stopper}, return_when=asyncio.FIRST_COMPLETED)
            for task in (sleeper, waker, stopper):
                task.cancel()
        log.info("scheduler %s stopped", self.worker_id)

    async def run_due(self) -> int:
        """Claim and fan out every job that is due now. Returns how many jobs were worked on."""
        worked = 0
        while (job := await self.claim()) is not None:
            await self.fan_out(job)
            worked += 1
        return worked

    async def next_due_at(self) -> datetime | None:
        """When the next job (or a lease that may need taking over) comes due."""
        async with transaction(self.sessionmaker) as session:
            when = case(
                (ReminderJob.state == RUNNING, ReminderJob.lease_until),
                else_=ReminderJob.due_at,
            )
            due: datetime | None = await session.scalar(
                select(type_coerce(func.min(when), UTCDateTime)).where(
                    ReminderJob.state.in_((PENDING, RUNNING))
                )
            )
        return due

    async def claim(self) -> ClaimedJob | None:
        """Atomically take the oldest due job nobody holds (or whose holder's lease ran out)."""
        async with transaction(self.sessionmaker) as session:
            now = self.clock.now()
            job = await session.scalar(
                select(ReminderJob)
                .where(
                    ReminderJob.state.in_((PENDING, RUNNING)),
                    ReminderJob.due_at <= now,
                    or_(
                        ReminderJob.lease_until.is_(None),
                        ReminderJob.lease_until < now,
                        ReminderJob.lease_owner == self.worker_id,
                    ),
                )
                .order_by(ReminderJob.due_at, ReminderJob.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if job is None:
                return None
            if job.state == RUNNING and job.lease_owner != self.worker_id:
                log.warning(
                    "job %s: lease of %s ran out at subscriber %s; taking over",
                    job.id,
                    job.lease_owner,
                    job.cursor,
                )
            job.state = RUNNING
            job.lease_owner = self.worker_id
            job.lease_until = now + self.lease
            job.attempts += 1
            return ClaimedJob(id=job.id, drop_id=job.drop_id, kind=job.kind, due_at=job.due_at)

    async def fan_out(self, job: ClaimedJob) -> None:
        started = time.perf_counter()
        total = 0
        while True:
            batch_started = time.perf_counter()
            delivered, more = await self._next_batch(job)
            metrics.FANOUT_BATCH_SECONDS.observe(time.perf_counter() - batch_started)
            if delivered is not None:
                total += delivered.count
                metrics.NOTIFICATIONS.labels(job.kind).inc(delivered.count)
                metrics.LATENESS_SECONDS.labels(job.kind).observe(delivered.lateness_seconds)
                for listener in self.listeners:
                    await listener(delivered)
            if not more:
                break
        elapsed = time.perf_counter() - started
        metrics.FANOUT_SECONDS.labels(job.kind).observe(elapsed)
        log.info(
            "job %s (%s, drop %s): %d notifications in %.3fs",
            job.id,
            job.kind,
            job.drop_id,
            total,
            elapsed,
        )

    async def _next_batch(self, job: ClaimedJob) -> tuple[Delivered | None, bool]:
        """One transaction: check the lease, insert a batch, move the cursor. (delivered, more?)"""
        delivered: Delivered | None = None
        async with transaction(self.sessionmaker) as session:
            now = self.clock.now()
            row = await session.scalar(
                select(ReminderJob).where(ReminderJob.id == job.id).with_for_update()
            )
            if row is None or row.state != RUNNING or row.lease_owner != self.worker_id:
                log.info("job %s: no longer ours (%s); stopping", job.id, row and row.state)
                return None, False
            if row.kind == SOON:
                drop = await session.get_one(Drop, row.drop_id)
                if drop.status_at(now) != "scheduled":
                    # Downtime: the drop already launched (or was called off); never a stale "soon".
                    row.state, row.finished_at = SKIPPED, now
                    row.lease_owner = row.lease_until = None
                    log.info(
                        "job %s: drop %s already %s; soon notice skipped",
                        job.id,
                        drop.id,
                        drop.status_at(now),
                    )
                    return None, False
            batch = await fanout.deliver_batch(
                session,
                job_id=row.id,
                drop_id=row.drop_id,
                kind=row.kind,
                due_at=row.due_at,
                cursor=row.cursor,
                batch_size=self.settings.fanout_batch_size,
            )
            committed_at = self.clock.now()
            row.delivered += batch.inserted
            row.lease_until = committed_at + self.lease
            if batch.inserted:
                session.add(
                    Delivery(job_id=row.id, count=batch.inserted, delivered_at=committed_at)
                )
                delivered = Delivered(job, batch.inserted, batch.low, batch.high, committed_at)
            if batch.finished:
                row.state, row.finished_at = DONE, committed_at
                row.lease_owner = row.lease_until = None
            else:
                assert batch.high is not None
                row.cursor = batch.high
        # Listeners (metrics, live events) run only after the batch has committed.
        return delivered, not batch.finished
