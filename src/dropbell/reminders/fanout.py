"""Set-based fan-out: one ``INSERT … SELECT`` per batch of subscribers.

A batch is the next ``batch_size`` subscribers by account id after the job's
cursor. The unique (account_id, job_id) key on notifications makes a second
copy impossible even if two workers ever raced on the same range: the insert
fails, and is made again with ``ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dropbell import dialect
from dropbell.db import UTCDateTime
from dropbell.notifications.models import Notification
from dropbell.reminders.models import Reminder


@dataclass(frozen=True)
class Batch:
    inserted: int
    low: int  # exclusive
    high: int | None  # inclusive; None: to the end, and the fan-out is finished

    @property
    def finished(self) -> bool:
        return self.high is None


async def deliver_batch(
    session: AsyncSession,
    *,
    job_id: int,
    drop_id: int,
    kind: str,
    due_at: datetime,
    cursor: int,
    batch_size: int,
) -> Batch:
    """Insert the next batch of ``kind`` notifications after subscriber ``cursor``.

    Only reminders set no later than ``due_at`` count: a late subscriber never
    gets a back-dated notice.
    """
    high = await session.scalar(
        select(Reminder.account_id)
        .where(Reminder.drop_id == drop_id, Reminder.account_id > cursor)
        .order_by(Reminder.account_id)
        .offset(batch_size - 1)
        .limit(1)
    )
    subscribers = select(
        Reminder.account_id,
        literal(kind),
        literal(drop_id),
        literal(job_id),
        literal(due_at, UTCDateTime),
    ).where(
        Reminder.drop_id == drop_id,
        Reminder.account_id > cursor,
        Reminder.created_at <= due_at,
    )
    if high is not None:
        subscribers = subscribers.where(Reminder.account_id <= high)
    insert = dialect.insert(session, Notification).from_select(
        ["account_id", "type", "drop_id", "job_id", "created_at"], subscribers
    )
    try:
        # A range nobody covered yet, the common case: a plain INSERT. The unique key
        # still refuses a second copy, but ON CONFLICT checks for one row by row first
        # (speculative insertion), which makes the fan-out about 3 times slower on
        # PostgreSQL (docs/benchmarks.md).
        async with session.begin_nested():
            result = await session.execute(insert)
    except IntegrityError:
        # Part of the range is there already. Not expected (the job row's lock admits one
        # writer per job, and the cursor moves with the rows), but if it ever is: insert
        # the rest, skip what exists.
        result = await session.execute(insert.on_conflict_do_nothing())
    inserted = max(0, result.rowcount or 0)  # type: ignore[attr-defined]
    return Batch(inserted=inserted, low=cursor, high=high)
