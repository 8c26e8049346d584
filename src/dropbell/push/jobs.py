"""Push jobs: one per released notice, claimed atomically, pushed in set-based batches.

The reminder scheduler calls :func:`enqueue` in the transaction that releases a
notice. A :class:`PushWorker` claims due ``push_jobs`` rows (``FOR UPDATE SKIP
LOCKED`` and a lease, like ``reminder_jobs``) and works each one in steps, every
step one transaction that first checks the lease is still ours:

1. pending ledger rows that are ready (never tried, or due for a retry) are read;
   after the commit they are pushed concurrently and each outcome is recorded;
2. if there are none and the ledger is not complete, the next ``push_batch_size``
   subscriptions (by id, after the cursor) of the notice's audience that want its type
   are read on their own (no write lock held while the audience is read), then written
   (``INSERT INTO push_deliveries … SELECT``), the cursor moving in the same transaction;
3. if the ledger is complete and only retries remain, the job is put back with
   ``wake_at`` at the earliest retry; with nothing left it is done.

The unique (subscription, notice) key means a subscription is written once per
notice, so in normal operation nothing is pushed twice; a worker that dies mid-batch
leaves its rows pending, and whoever takes the job over after the lease pushes them:
only the pushes that were in flight at the crash can reach a device twice.
At or after the notice's TTL deadline nothing is sent: what is left is ``expired``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, case, func, or_, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dropbell import dialect, i18n
from dropbell.accounts.models import Account
from dropbell.clock import Clock
from dropbell.config import Settings
from dropbell.context import Context
from dropbell.db import UTCDateTime, transaction
from dropbell.drops.images import push_icon
from dropbell.drops.models import Drop
from dropbell.notifications.models import NotificationType
from dropbell.push import keys, ledger, payload
from dropbell.push.models import DeliveryState, JobState, PushJob
from dropbell.push.sender import Outcome, Sender, Target
from dropbell.workers import Worker

log = logging.getLogger(__name__)

# Who a notice goes to: a Select of one column, account_id (None: nobody).
Audience = Callable[[AsyncSession, PushJob], Awaitable[Select[tuple[int]] | None]]


async def notice_audience(session: AsyncSession, job: PushJob) -> Select[tuple[int]] | None:
    """The released notice's audience, from :mod:`dropbell.notifications.audience`."""
    from dropbell.notifications.audience import audience_accounts
    from dropbell.notifications.models import Notification

    notice = await session.get(Notification, job.notification_id)
    return None if notice is None else audience_accounts(notice)


LIVE_TTL = timedelta(hours=1)
NEWS_TTL = timedelta(days=1)


def expires_at_for(kind: str, *, due_at: datetime, launch_at: datetime) -> datetime:
    """A notice's TTL deadline: a lead notice is useless once the drop is live, the launch
    an hour after it, news of a change (new time, cancelled, announced) after a day."""
    if kind == NotificationType.DROP_SOON:
        return launch_at
    if kind == NotificationType.DROP_LIVE:
        return due_at + LIVE_TTL
    return due_at + NEWS_TTL


async def enqueue(
    session: AsyncSession,
    *,
    notification_id: int,
    drop_id: int,
    kind: str,
    due_at: datetime,
    expires_at: datetime,
) -> None:
    """Queue the push of a released notice, in the caller's transaction (idempotent).

    ``expires_at`` is the TTL deadline: nothing is pushed at or after it.
    """
    statement = (
        dialect.insert(session, PushJob)
        .values(
            notification_id=notification_id,
            drop_id=drop_id,
            kind=kind,
            state=JobState.PENDING,
            cursor=0,
            fanned_out=False,
            attempts=0,
            due_at=due_at,
            wake_at=due_at,
            expires_at=expires_at,
            created_at=due_at,
        )
        .on_conflict_do_nothing(index_elements=[PushJob.notification_id])
    )
    await session.execute(statement)


@dataclass(frozen=True)
class ClaimedPush:
    id: int
    notification_id: int
    drop_id: int
    kind: str
    due_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Step:
    """What one step left to do: push ``targets``, or stop (``done``)."""

    targets: list[Target]
    done: bool = False


_STOP = Step([], done=True)


def _by_language(targets: list[Target]) -> dict[str, list[Target]]:
    """Targets grouped by the language their push is written in (English by default)."""
    groups: dict[str, list[Target]] = {}
    for target in targets:
        groups.setdefault(i18n.supported(target.language) or i18n.DEFAULT, []).append(target)
    return groups


class PushWorker(Worker):
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        settings: Settings,
        *,
        worker_id: str | None = None,
        sender: Sender | None = None,
        audience: Audience = notice_audience,
    ) -> None:
        # ``reads``: the audience's next batch (step)
        super().__init__(sessionmaker, clock, settings, worker_id)
        self.sender = sender or Sender(settings, clock)
        self.audience = audience

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.job_lease_seconds)

    async def aclose(self) -> None:
        await self.sender.aclose()

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set: work due jobs, then nap until the next (or a poke)."""
        await self.loop(stop, self._step, self._failed)

    async def _step(self) -> datetime | None:
        await self.run_due()
        return await self.next_wake_at()

    def _failed(self, exc: Exception) -> float:
        log.exception("push worker error; retrying")
        return 1.0

    async def run_due(self) -> int:
        """Claim and work every push job that is due now. Returns how many were worked on."""
        worked = 0
        while (job := await self.claim()) is not None:
            await self.work(job)
            worked += 1
        return worked

    async def next_wake_at(self) -> datetime | None:
        async with transaction(self.sessionmaker) as session:
            when = case(
                (PushJob.state == JobState.RUNNING, PushJob.lease_until), else_=PushJob.wake_at
            )
            due: datetime | None = await session.scalar(
                select(type_coerce(func.min(when), UTCDateTime)).where(
                    PushJob.state.in_((JobState.PENDING, JobState.RUNNING))
                )
            )
        return due

    async def claim(self) -> ClaimedPush | None:
        """Atomically take the oldest due job nobody holds (or whose holder's lease ran out)."""
        async with transaction(self.sessionmaker) as session:
            now = self.clock.now()
            job = await session.scalar(
                select(PushJob)
                .where(
                    PushJob.state.in_((JobState.PENDING, JobState.RUNNING)),
                    PushJob.wake_at <= now,
                    or_(
                        PushJob.lease_until.is_(None),
                        PushJob.lease_until < now,
                        PushJob.lease_owner == self.worker_id,
                    ),
                )
                .order_by(PushJob.wake_at, PushJob.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if job is None:
                return None
            if job.state == JobState.RUNNING and job.lease_owner != self.worker_id:
                log.warning(
                    "push job %s: lease of %s ran out; taking over", job.id, job.lease_owner
                )
            job.state, job.lease_owner = JobState.RUNNING, self.worker_id
            job.lease_until = now + self.lease
            job.attempts += 1
            return ClaimedPush(
                job.id, job.notification_id, job.drop_id, job.kind, job.due_at, job.expires_at
            )

    async def work(self, job: ClaimedPush) -> None:
        """Push one notice to every subscription that wants it, step by step."""
        async with transaction(self.sessionmaker) as session:
            key = await keys.current_key(Context(session, self.clock, self.settings))
            messages = await self._messages(session, job)
            if messages is None:  # the drop was deleted: nothing to say
                await session.execute(
                    update(PushJob)
                    .where(PushJob.id == job.id)
                    .values(state=JobState.DONE, finished_at=self.clock.now(), lease_owner=None)
                )
                return
        sent = 0
        while True:
            step = await self.step(job)
            if step.done:
                break
            outcomes = []
            for locale, targets in _by_language(step.targets).items():
                outcomes += await self.sender.send_many(key, messages[locale], targets)
            if outcomes:
                await self.record(job, outcomes)
                sent += sum(o.state == DeliveryState.SENT for o in outcomes)
        log.info("push job %s (%s, drop %s): %d pushes sent", job.id, job.kind, job.drop_id, sent)

    async def _messages(
        self, session: AsyncSession, job: ClaimedPush
    ) -> dict[str, payload.Message] | None:
        """The notice's push in each language dropbell speaks (a handful, made once)."""
        drop = await session.get(Drop, job.drop_id)
        if drop is None:
            return None
        brand = await session.get_one(Account, drop.brand_id)
        icon = await push_icon(session, self.settings, drop)
        return {
            locale: payload.build(
                notification_id=job.notification_id,
                kind=job.kind,
                drop=drop,
                brand=brand,
                public_url=self.settings.public_url,
                due_at=job.due_at,
                expires_at=job.expires_at,
                locale=locale,
                image_url=icon,
            )
            for locale in i18n.LOCALES
        }

    async def step(self, job: ClaimedPush) -> Step:
        """Lease check, then ready rows, or the next ledger batch, or finish.

        Each pass is one transaction. The next batch of the audience is read between two of
        them (:func:`ledger.next_batch`, on its own: it is what costs what the audience
        costs) and written by the pass after, if the cursor has not moved meanwhile.
        """
        batch: ledger.Batch | None = None
        while True:
            async with transaction(self.sessionmaker) as session:
                row = await session.scalar(
                    select(PushJob).where(PushJob.id == job.id).with_for_update()
                )
                if (
                    row is None
                    or row.state != JobState.RUNNING
                    or row.lease_owner != self.worker_id
                ):
                    log.info("push job %s: no longer ours; stopping", job.id)
                    return _STOP
                now = self.clock.now()
                if now >= row.expires_at:
                    await ledger.expire(session, row, now)
                    return _STOP
                row.lease_until = now + self.lease
                size = self.settings.push_batch_size
                targets = await ledger.ready(session, row, now, size)
                if targets:
                    return Step(targets)
                if row.fanned_out:
                    await ledger.finish(session, row, now)
                    return _STOP
                if batch is not None and batch.after == row.cursor:
                    await ledger.write_batch(session, row, batch)
                    return Step(await ledger.ready(session, row, now, size))
                cursor = row.cursor
            async with transaction(self.reads) as session:
                pushed = await session.get_one(PushJob, job.id)
                audience = await self.audience(session, pushed)
                batch = await ledger.next_batch(session, pushed, audience, cursor, size)

    async def record(self, job: ClaimedPush, outcomes: list[Outcome]) -> None:
        """Write each push's outcome (only rows still pending change, so a late writer never
        undoes one); remove the subscriptions the push service said are gone."""
        if outcomes:
            async with transaction(self.sessionmaker) as session:
                await ledger.record(session, job.due_at, outcomes)
