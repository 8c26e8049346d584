"""The push ledger's SQL: one row per (subscription, notice), written in set-based batches.

Each function runs inside the caller's transaction (the push worker's steps).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Select,
    Table,
    bindparam,
    delete,
    func,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from dropbell import dialect
from dropbell.accounts.models import AccessToken, Account
from dropbell.db import UTCDateTime
from dropbell.push.models import (
    DeliveryState,
    JobState,
    PushDelivery,
    PushJob,
    PushSubscription,
)
from dropbell.push.sender import RETRY, Outcome, Target

log = logging.getLogger(__name__)


async def ready(session: AsyncSession, job: PushJob, now: datetime, limit: int) -> list[Target]:
    """Pending ledger rows due now (first tries, and retries whose time came), each with
    its subscriber's language (the push is written in it)."""
    d, s = PushDelivery, PushSubscription
    rows = (
        await session.execute(
            select(
                d.id, d.subscription_id, d.attempts, s.endpoint, s.p256dh, s.auth, Account.language
            )
            .outerjoin(s, s.id == d.subscription_id)
            .outerjoin(Account, Account.id == s.account_id)
            .where(
                d.notification_id == job.notification_id,
                d.state == DeliveryState.PENDING,
                or_(d.next_at.is_(None), d.next_at <= now),
            )
            .order_by(d.id)
            .limit(limit)
        )
    ).all()
    gone = [r.id for r in rows if r.endpoint is None]
    if gone:  # unsubscribed since the row was written: nothing to send, nothing to count
        await session.execute(delete(d).where(d.id.in_(gone)))
    return [
        Target(r.id, r.subscription_id, r.endpoint, r.p256dh, r.auth, r.attempts, r.language)
        for r in rows
        if r.endpoint is not None
    ]


@dataclass(frozen=True)
class Batch:
    """The next ledger batch, read outside the write transaction: subscription ids after
    ``after`` (the cursor it was read at), and whether they are the audience's last."""

    after: int
    ids: list[int]
    last: bool


def _wanted(job: PushJob) -> Select[Any]:
    """Subscriptions that want ``job``'s kind of push, on a live token."""
    s, t = PushSubscription, AccessToken
    return (
        select(s.id)
        .join(t, t.id == s.access_token_id)
        .where(s.alerts[job.kind].as_boolean().is_(True), t.revoked_at.is_(None))
    )


async def next_batch(
    session: AsyncSession,
    job: PushJob,
    audience: Select[tuple[int]] | None,
    after: int,
    batch_size: int,
) -> Batch:
    """Read the next batch of the ledger: up to ``batch_size`` subscriptions of the
    notice's audience, by id after ``after``.

    A released notice's audience no longer changes, so this read can run on its own (it is
    the part that costs what the audience costs: on SQLite, inside the write lock, it
    stalled every writer of the process); :func:`write_batch` then writes only the ids.
    """
    if audience is None:
        return Batch(after, [], last=True)
    s = PushSubscription
    ids = list(
        await session.scalars(
            _wanted(job)
            .where(s.account_id.in_(audience.scalar_subquery()), s.id > after)
            .order_by(s.id)
            .limit(batch_size)
        )
    )
    return Batch(after, ids, last=len(ids) < batch_size)


async def write_batch(session: AsyncSession, job: PushJob, batch: Batch) -> None:
    """Write a batch read by :func:`next_batch` at the job's cursor; the cursor moves in the
    same transaction. Subscriptions removed (or switched off) since the read are left out."""
    if batch.ids:
        s = PushSubscription
        rows = (
            _wanted(job)
            .where(s.id.in_(bindparam("ids", batch.ids, expanding=True)))
            .with_only_columns(
                s.id, literal(job.notification_id), literal(DeliveryState.PENDING.value), literal(0)
            )
        )
        insert = dialect.insert(session, PushDelivery).from_select(
            ["subscription_id", "notification_id", "state", "attempts"], rows
        )
        await session.execute(insert.on_conflict_do_nothing())
        job.cursor = batch.ids[-1]
    if batch.last:
        job.fanned_out = True


async def finish(session: AsyncSession, job: PushJob, now: datetime) -> None:
    """Done, or (retries waiting) back to pending until the earliest retry."""
    retry_at = await session.scalar(
        select(type_coerce(func.min(PushDelivery.next_at), UTCDateTime)).where(
            PushDelivery.notification_id == job.notification_id,
            PushDelivery.state == DeliveryState.PENDING,
        )
    )
    job.lease_owner = job.lease_until = None
    if retry_at is not None:
        job.state, job.wake_at = JobState.PENDING, retry_at
    else:
        job.state, job.finished_at = JobState.DONE, now


async def expire(session: AsyncSession, job: PushJob, now: datetime) -> None:
    result = await session.execute(
        update(PushDelivery)
        .where(
            PushDelivery.notification_id == job.notification_id,
            PushDelivery.state == DeliveryState.PENDING,
        )
        .values(state=DeliveryState.EXPIRED, next_at=None)
    )
    job.state, job.finished_at = JobState.EXPIRED, now
    job.lease_owner = job.lease_until = None
    expired = max(0, result.rowcount or 0)  # type: ignore[attr-defined]
    log.info("push job %s: TTL passed; %d pushes dropped", job.id, expired)


async def record(session: AsyncSession, due: datetime, outcomes: list[Outcome]) -> None:
    """Write each push's outcome; remove the subscriptions the push service said are gone.

    Only rows still pending change, so a late writer never undoes an outcome.
    """
    params = [
        {
            "b_id": o.delivery_id,
            "b_state": DeliveryState.PENDING if o.state == RETRY else o.state,
            "b_status": o.status,
            "b_next_at": o.retry_at,
            "b_sent_at": o.at if o.state == DeliveryState.SENT else None,
            "b_latency": o.latency_ms,
            "b_lateness": _ms(o.at - due) if o.state == DeliveryState.SENT and o.at else None,
        }
        for o in outcomes
    ]
    d = cast(Table, PushDelivery.__table__)  # Core: one executemany for the batch
    statement = (
        update(d)
        .where(d.c.id == bindparam("b_id"), d.c.state == DeliveryState.PENDING)
        .values(
            state=bindparam("b_state"),
            status_code=bindparam("b_status"),
            next_at=bindparam("b_next_at", type_=UTCDateTime),
            sent_at=bindparam("b_sent_at", type_=UTCDateTime),
            latency_ms=bindparam("b_latency"),
            lateness_ms=bindparam("b_lateness"),
            attempts=d.c.attempts + 1,
        )
    )
    gone = sorted({o.subscription_id for o in outcomes if o.state == DeliveryState.REMOVED})
    conn = await session.connection()
    await conn.execute(statement, params)
    if gone:
        await session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))


def _ms(delta: timedelta) -> int:
    return max(0, round(delta.total_seconds() * 1000))
