"""The schedule of a drop's reminder jobs, and a shopper's reminders as pages read them.

Remind me itself (the toggle a launch rush is made of) is ``reminders.hotpath``.
Services flush; the request owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dropbell import errors, times
from dropbell.context import Context
from dropbell.drops.models import Drop, DropStatus
from dropbell.reminders.models import (
    CANCELLED,
    LIVE,
    PENDING,
    RESCHEDULED,
    SOON,
    SUPERSEDED,
    Reminder,
    ReminderJob,
    parse_offsets,
)


async def reminded_offsets(
    session: AsyncSession, account_id: int, drop_ids: list[int]
) -> dict[int, list[int]]:
    """The caller's open reminders among ``drop_ids``: drop id → the chosen leads."""
    if not drop_ids:
        return {}
    rows = await session.execute(
        select(Reminder.drop_id, Reminder.offsets).where(
            Reminder.account_id == account_id,
            Reminder.drop_id.in_(drop_ids),
            Reminder.ended_at.is_(None),
        )
    )
    return {drop_id: parse_offsets(offsets) for drop_id, offsets in rows}


def ensure_upcoming(drop: Drop, now: datetime) -> None:
    """Raise the 409 that fits when the drop is no longer ahead."""
    status = drop.status_at(now)
    if status == DropStatus.CANCELLED:
        raise errors.DropCancelled()
    if status == DropStatus.LIVE:
        raise errors.DropLive()


def _job(
    drop: Drop, kind: str, due_at: datetime, now: datetime, lead: int | None = None
) -> ReminderJob:
    return ReminderJob(
        drop_id=drop.id, kind=kind, lead_seconds=lead, due_at=due_at, state=PENDING,
        created_at=now,
    )  # fmt: skip


async def schedule_launch(ctx: Context, drop: Drop, now: datetime) -> None:
    """Queue a notice for each lead a shopper may choose whose moment is still ahead, and
    the launch notice. (A lead nobody chose is released to nobody: one row, no cost.)"""
    for lead in sorted(ctx.settings.allowed_offsets, reverse=True):
        due_at = times.before(drop.launch_at, lead)  # clamped: a huge lead never overflows
        if due_at > now:
            ctx.session.add(_job(drop, SOON, due_at, now, lead))
    ctx.session.add(_job(drop, LIVE, drop.launch_at, now))
    await ctx.session.flush()


async def _supersede_pending(session: AsyncSession, drop_id: int) -> None:
    """Pending notices of the old schedule never fire."""
    await session.execute(
        update(ReminderJob)
        .where(
            ReminderJob.drop_id == drop_id,
            ReminderJob.kind.in_((SOON, LIVE)),
            ReminderJob.state == PENDING,
        )
        .values(state=SUPERSEDED)
    )


async def reschedule(ctx: Context, drop: Drop, now: datetime) -> None:
    """Move the pending notices with the drop and tell its subscribers the new time."""
    await _supersede_pending(ctx.session, drop.id)
    ctx.session.add(_job(drop, RESCHEDULED, now, now))
    await schedule_launch(ctx, drop, now)


async def cancel(session: AsyncSession, drop: Drop, now: datetime) -> None:
    """Drop the pending notices and tell the subscribers the drop is off."""
    await _supersede_pending(session, drop.id)
    session.add(_job(drop, CANCELLED, now, now))
    await session.flush()


@dataclass(frozen=True)
class Upcoming:
    """One of a shopper's reminders still to come: the drop, the chosen leads, since when."""

    drop: Drop
    offsets: list[int]
    since: datetime


async def upcoming_for(
    session: AsyncSession, account_id: int, now: datetime, limit: int = 200
) -> list[Upcoming]:
    """The shopper's open reminders on drops neither launched nor cancelled at ``now``,
    soonest launch first (My reminders)."""
    rows = await session.execute(
        select(Drop, Reminder.offsets, Reminder.created_at)
        .join(Reminder, Reminder.drop_id == Drop.id)
        .where(
            Reminder.account_id == account_id,
            Reminder.ended_at.is_(None),
            Drop.cancelled_at.is_(None),
            Drop.launch_at > now,
        )
        .order_by(Drop.launch_at, Drop.id)
        .limit(limit)
    )
    return [Upcoming(drop, parse_offsets(offsets), since) for drop, offsets, since in rows]
