"""Remind me, and the schedule of a drop's reminder jobs.

Services flush; the request owns the transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
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


async def remind(
    session: AsyncSession, clock: Clock, settings: Settings, viewer: Viewer, drop: Drop
) -> bool:
    """Set a reminder. Idempotent: a second call changes nothing. Returns True if it was new.

    Inside the last lead time the "soon" notice is not back-dated (the fan-out
    only takes reminders set before a notice was due); the launch notice still comes.
    """
    if not is_eligible(settings, viewer):
        raise errors.NotEligible()
    ensure_upcoming(drop, clock.now())
    await _check_new_reminder_cap(session, clock, settings, viewer.account.id, drop.id)
    stmt = (
        dialect.insert(session, Reminder)
        .values(drop_id=drop.id, account_id=viewer.account.id, created_at=clock.now())
        .on_conflict_do_nothing()
        .returning(Reminder.account_id)
    )
    inserted = (await session.execute(stmt)).first() is not None
    if inserted:
        await session.execute(
            update(Drop).where(Drop.id == drop.id).values(reminder_count=Drop.reminder_count + 1)
        )
    return inserted


async def _check_new_reminder_cap(
    session: AsyncSession, clock: Clock, settings: Settings, account_id: int, drop_id: int
) -> None:
    """Stop a bot from reminding on thousands of drops a minute (a repeat tap is fine)."""
    cap = settings.remind_new_drops_per_minute
    if not cap:
        return
    recent = await session.scalar(
        select(func.count()).where(
            Reminder.account_id == account_id,
            Reminder.created_at > clock.now() - timedelta(minutes=1),
        )
    )
    if (recent or 0) >= cap and not await is_reminded(session, account_id, [drop_id]):
        raise errors.RateLimited(
            f"At most {cap} new reminders a minute; try again in a minute.",
            headers={"Retry-After": "60"},
        )


async def unremind(session: AsyncSession, viewer: Viewer, drop: Drop) -> bool:
    """Remove a reminder. Idempotent. Returns True if there was one."""
    deleted = (
        await session.execute(
            delete(Reminder)
            .where(Reminder.drop_id == drop.id, Reminder.account_id == viewer.account.id)
            .returning(Reminder.account_id)
        )
    ).first() is not None
    if deleted:
        await session.execute(
            update(Drop).where(Drop.id == drop.id).values(reminder_count=Drop.reminder_count - 1)
        )
    return deleted


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
