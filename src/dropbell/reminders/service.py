"""Remind me, and the schedule of a drop's reminder jobs.

Services flush; the request owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dropbell import dialect, errors
from dropbell.accounts.service import Viewer
from dropbell.clock import Clock
from dropbell.config import Settings
from dropbell.drops.models import Drop
from dropbell.drops.rollout import is_eligible
from dropbell.reminders.models import (
    CANCELLED,
    LIVE,
    PENDING,
    RESCHEDULED,
    RUNNING,
    SOON,
    SUPERSEDED,
    Reminder,
    ReminderJob,
)


@dataclass(frozen=True)
class Toggled:
    """What Remind me (or its undo) left: whether the viewer now has a reminder on the
    drop, whether a reminder row really changed, and the drop's reminder count as this
    transaction sees it afterwards."""

    reminded: bool
    changed: bool
    reminder_count: int


# Remind me's statements, built once: constructing a statement (and its cache key) costs
# more than running it, and these run on every tap. Core tables: nothing in the session
# follows these rows, so the ORM's bulk-DML machinery would be overhead too.
_reminders = cast(Table, Reminder.__table__)
_drops = cast(Table, Drop.__table__)
_INSERT = dialect.per_database(
    lambda insert: insert(_reminders).on_conflict_do_nothing().returning(_reminders.c.account_id)
)
_DELETE = (
    delete(_reminders)
    .where(
        _reminders.c.drop_id == bindparam("drop_id"),
        _reminders.c.account_id == bindparam("account_id"),
    )
    .returning(_reminders.c.account_id)
)
_COUNT = (
    update(_drops)
    .where(_drops.c.id == bindparam("drop_id"))
    .values(reminder_count=_drops.c.reminder_count + bindparam("delta"))
    .returning(_drops.c.reminder_count)
)
_RECENT = select(func.count()).where(
    Reminder.account_id == bindparam("account_id"), Reminder.created_at > bindparam("since")
)


async def remind(
    session: AsyncSession, clock: Clock, settings: Settings, viewer: Viewer, drop: Drop
) -> Toggled:
    """Set a reminder. Idempotent: a second call changes nothing (``changed`` is False).

    Inside the last lead time the "soon" notice is not back-dated (the fan-out
    only takes reminders set before a notice was due); the launch notice still comes.
    """
    if not is_eligible(settings, viewer):
        raise errors.NotEligible()
    ensure_upcoming(drop, clock.now())
    await _check_new_reminder_cap(session, clock, settings, viewer.account.id, drop.id)
    row = {"drop_id": drop.id, "account_id": viewer.account.id, "created_at": clock.now()}
    inserted = (await session.execute(dialect.pick(session, _INSERT), row)).first() is not None
    return await _count(session, drop, reminded=True, changed=inserted)


async def _count(session: AsyncSession, drop: Drop, *, reminded: bool, changed: bool) -> Toggled:
    """Move the drop's counter with the reminder row that really changed, in the same
    transaction, so it stays exact under any concurrency.

    This is the last statement before the request commits: UPDATE holds the drop's row
    lock until then, and every shopper tapping the same drop queues on it. A repeat tap
    (nothing changed) takes no lock; its count is the one read with the drop.
    """
    if not changed:
        return Toggled(reminded, False, drop.reminder_count)
    count = await session.scalar(_COUNT, {"drop_id": drop.id, "delta": 1 if reminded else -1})
    assert count is not None
    return Toggled(reminded, True, count)


async def _check_new_reminder_cap(
    session: AsyncSession, clock: Clock, settings: Settings, account_id: int, drop_id: int
) -> None:
    """Stop a bot from reminding on thousands of drops a minute (a repeat tap is fine)."""
    cap = settings.remind_new_drops_per_minute
    if not cap:
        return
    since = clock.now() - timedelta(minutes=1)
    recent = await session.scalar(_RECENT, {"account_id": account_id, "since": since})
    if (recent or 0) >= cap and not await is_reminded(session, account_id, [drop_id]):
        raise errors.RateLimited(
            f"At most {cap} new reminders a minute; try again in a minute.",
            headers={"Retry-After": "60"},
        )


async def unremind(session: AsyncSession, viewer: Viewer, drop: Drop) -> Toggled:
    """Remove a reminder. Idempotent: without one, nothing changes (``changed`` is False)."""
    keys = {"drop_id": drop.id, "account_id": viewer.account.id}
    deleted = (await session.execute(_DELETE, keys)).first() is not None
    return await _count(session, drop, reminded=False, changed=deleted)


async def is_reminded(session: AsyncSession, account_id: int, drop_ids: list[int]) -> set[int]:
    if not drop_ids:
        return set()
    rows = await session.scalars(
        select(Reminder.drop_id).where(
            Reminder.account_id == account_id, Reminder.drop_id.in_(drop_ids)
        )
    )
    return set(rows)


def ensure_upcoming(drop: Drop, now: datetime) -> None:
    """Raise the 409 that fits when the drop is no longer ahead."""
    status = drop.status_at(now)
    if status == "cancelled":
        raise errors.DropCancelled()
    if status == "live":
        raise errors.DropLive()


def _job(drop: Drop, kind: str, due_at: datetime, now: datetime) -> ReminderJob:
    return ReminderJob(drop_id=drop.id, kind=kind, due_at=due_at, state=PENDING, created_at=now)


async def schedule_launch(
    session: AsyncSession, settings: Settings, drop: Drop, now: datetime
) -> None:
    """Queue the "soon" notice (if its time is still ahead) and the launch notice."""
    soon_at = drop.launch_at - timedelta(seconds=settings.reminder_lead_seconds)
    if soon_at > now:
        session.add(_job(drop, SOON, soon_at, now))
    session.add(_job(drop, LIVE, drop.launch_at, now))
    await session.flush()


async def _supersede_pending(session: AsyncSession, drop_id: int) -> None:
    """Pending and half-done notices of the old schedule never fire (a running fan-out stops)."""
    await session.execute(
        update(ReminderJob)
        .where(
            ReminderJob.drop_id == drop_id,
            ReminderJob.kind.in_((SOON, LIVE)),
            ReminderJob.state.in_((PENDING, RUNNING)),
        )
        .values(state=SUPERSEDED, lease_owner=None, lease_until=None)
    )


async def reschedule(session: AsyncSession, settings: Settings, drop: Drop, now: datetime) -> None:
    """Move the pending notices with the drop and tell its subscribers the new time."""
    await _supersede_pending(session, drop.id)
    session.add(_job(drop, RESCHEDULED, now, now))
    await schedule_launch(session, settings, drop, now)


async def cancel(session: AsyncSession, drop: Drop, now: datetime) -> None:
    """Drop the pending notices and tell the subscribers the drop is off."""
    await _supersede_pending(session, drop.id)
    session.add(_job(drop, CANCELLED, now, now))
    await session.flush()
