"""Remind me, and the schedule of a drop's reminder jobs.

Services flush; the request owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Integer,
    Row,
    Table,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from dropbell import errors
from dropbell.accounts.models import Account
from dropbell.accounts.service import Caller
from dropbell.clock import Clock
from dropbell.config import Settings
from dropbell.db import UTCDateTime
from dropbell.drops.models import Drop, drop_status
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
from dropbell.types import BigId


@dataclass(frozen=True)
class Toggled:
    """What Remind me (or its undo) left: the drop (a row with the drop's columns and its
    brand's ``brand_username`` and ``brand_display_name``), whether the caller now has a
    reminder on it, whether a reminder row really changed, and the drop's reminder count
    as this unit of work sees it afterwards."""

    drop: Row[Any]
    reminded: bool
    changed: bool
    reminder_count: int


# Remind me is the one request the launch rush is made of, so its statements are built
# once (building a statement and its cache key costs more than running it) from Core
# tables (nothing needs the ORM's identity map here), and on PostgreSQL they are composed
# into ONE statement that commits by itself: no BEGIN, no COMMIT, one round trip. SQLite
# has no INSERT inside WITH, so there the same pieces run one after another inside the
# caller's transaction (BEGIN IMMEDIATE: one writer at a time).
_reminders = cast(Table, Reminder.__table__)
_drops = cast(Table, Drop.__table__)
_accounts = cast(Table, Account.__table__)

_WAS_REMINDED = (
    exists()
    .where(_reminders.c.drop_id == _drops.c.id, _reminders.c.account_id == bindparam("account_id"))
    .label("was_reminded")
)
# The drop, its brand, and whether the caller had a reminder on it before this statement.
_HEAD = (
    select(
        _drops,
        _accounts.c.username.label("brand_username"),
        _accounts.c.display_name.label("brand_display_name"),
        _WAS_REMINDED,
    )
    .join_from(_drops, _accounts, _accounts.c.id == _drops.c.brand_id)
    .where(_drops.c.id == bindparam("drop_id"))
)
_RECENT = (
    select(func.count())
    .select_from(_reminders)
    .where(_reminders.c.account_id == bindparam("account_id"))
    .where(_reminders.c.created_at > bindparam("since", type_=UTCDateTime()))
    .scalar_subquery()
)


def _insert(insert: Callable[[Table], Any]) -> Any:
    """The reminder, only if the drop is still ahead, the caller is in the rollout and under
    the cap of new reminders a minute (``cap`` 0: no cap)."""
    now = bindparam("now", type_=UTCDateTime())
    cap = bindparam("cap", type_=Integer())
    chosen = select(_drops.c.id, bindparam("account_id", type_=BigId), now).where(
        _drops.c.id == bindparam("drop_id"),
        _drops.c.cancelled_at.is_(None),
        _drops.c.launch_at > now,
        bindparam("eligible", type_=Boolean()),
        or_(cap == 0, cap > _RECENT),
    )
    return (
        insert(_reminders)
        .from_select(["drop_id", "account_id", "created_at"], chosen)
        .on_conflict_do_nothing()
        .returning(_reminders.c.drop_id)
    )


_DELETE = (
    delete(_reminders)
    .where(
        _reminders.c.drop_id == bindparam("drop_id"),
        _reminders.c.account_id == bindparam("account_id"),
    )
    .returning(_reminders.c.drop_id)
)


def _bump(which: Any, delta: int) -> Any:
    """Move the counter with the reminder row that really changed, so it stays exact under
    any concurrency (the row lock on the drop is held only until the change commits)."""
    return (
        update(_drops)
        .where(which)
        .values(reminder_count=_drops.c.reminder_count + delta)
        .returning(_drops.c.reminder_count)
    )


def _in_one(change: Any, delta: int) -> Any:
    """PostgreSQL: the change, the counter and the drop as it was, in one statement."""
    changed = change.cte("changed")
    bumped = _bump(_drops.c.id.in_(select(changed.c.drop_id)), delta).cte("bumped")
    return _HEAD.add_columns(select(bumped.c.reminder_count).scalar_subquery().label("new_count"))


_REMIND_PG = _in_one(_insert(postgresql.insert), +1)
_UNREMIND_PG = _in_one(_DELETE, -1)
_INSERT_SQLITE = _insert(sqlite.insert)
_BUMP_SQLITE = {delta: _bump(_drops.c.id == bindparam("drop_id"), delta) for delta in (+1, -1)}


async def _toggle(
    conn: AsyncConnection, one: Any, change: Any, delta: int, params: dict[str, Any]
) -> tuple[Row[Any], bool, int]:
    """(the drop as it was, whether a reminder row changed, the count afterwards)."""
    if conn.dialect.name == "postgresql":
        row = (await conn.execute(one, params)).first()
        if row is None:
            raise errors.NotFound("No such drop.")
        new_count = row.new_count
    else:
        row = (await conn.execute(_HEAD, params)).first()
        if row is None:
            raise errors.NotFound("No such drop.")
        new_count = None
        if (await conn.execute(change, params)).first() is not None:
            new_count = await conn.scalar(_BUMP_SQLITE[delta], params)
    if new_count is None:
        return row, False, row.reminder_count
    return row, True, new_count


async def remind(
    conn: AsyncConnection, clock: Clock, settings: Settings, caller: Caller, drop_id: int
) -> Toggled:
    """Set a reminder. Idempotent: a second call changes nothing (``changed`` is False).

    401 is the caller's business; then 404, 403 ``not_eligible``, 409 once live or
    cancelled, 429 over the cap of new reminders a minute. Inside the last lead time the
    "soon" notice is not back-dated (the fan-out only takes reminders set before a notice
    was due); the launch notice still comes.
    """
    now = clock.now()
    eligible = is_eligible(settings, caller)
    cap = settings.remind_new_drops_per_minute
    params = {
        "drop_id": drop_id,
        "account_id": caller.account_id,
        "now": now,
        "since": now - timedelta(minutes=1),
        "eligible": eligible,
        "cap": cap,
    }
    drop, changed, count = await _toggle(conn, _REMIND_PG, _INSERT_SQLITE, +1, params)
    if not eligible:
        raise errors.NotEligible()
    status = drop_status(drop.launch_at, drop.cancelled_at, now)
    if status == "cancelled":
        raise errors.DropCancelled()
    if status == "live":
        raise errors.DropLive()
    if not changed and not drop.was_reminded and cap:
        # Nothing inserted, and there was no reminder: the cap stopped it, or a second tap
        # of the same caller inserted it a moment ago (then it is there: not a 429).
        recent = await conn.scalar(select(_RECENT), params)
        if (recent or 0) >= cap:
            raise errors.RateLimited(
                f"At most {cap} new reminders a minute; try again in a minute.",
                headers={"Retry-After": "60"},
            )
    return Toggled(drop, True, changed, count)


async def unremind(conn: AsyncConnection, caller: Caller, drop_id: int) -> Toggled:
    """Remove a reminder. Idempotent: without one, nothing changes (``changed`` is False)."""
    params = {"drop_id": drop_id, "account_id": caller.account_id}
    drop, changed, count = await _toggle(conn, _UNREMIND_PG, _DELETE, -1, params)
    return Toggled(drop, False, changed, count)


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
