"""Set-based fan-out: one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` per batch of subscribers.

A batch is the next ``batch_size`` subscribers by account id after the job's
cursor. The unique (account_id, job_id) key on notifications makes a second
copy impossible even if two workers ever raced on the same range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import literal, select
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
    stmt = (
        dialect.insert(session, Notification)
        .from_select(
            ["account_id", "type", "drop_id", "job_id", "created_at"],
            subscribers,
        )
        .on_conflict_do_nothing()
    )
    result = await session.execute(stmt)
    inserted = max(0, result.rowcount or 0)  # type: ignore[attr-defined]
    return Batch(inserted=inserted, low=cursor, high=high)
