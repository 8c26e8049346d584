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
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from dropbell import errors, times
from dropbell.accounts.models import Account
from dropbell.accounts.service import Caller
from dropbell.clock import Clock
from dropbell.config import Settings
from dropbell.db import UTCDateTime
from dropbell.drops import regions
from dropbell.drops.models import Drop, drop_status
from dropbell.drops.rollout import ineligible_reason, is_eligible
from dropbell.media.models import Media
from dropbell.reminders.models import (
    CANCELLED,
    LIVE,
    PENDING,
    RESCHEDULED,
    SOON,
    SUPERSEDED,
    Reminder,
    ReminderJob,
    format_offsets,
    parse_offsets,
)
from dropbell.types import BigId


@dataclass(frozen=True)
class Toggled:
    """What Remind me (or its undo) left: the drop (a row with the drop's columns and its
    brand's ``brand_username``, ``brand_display_name`` and ``brand_is_partner``), whether
    the caller now has a reminder on it, whether a reminder row really changed, the drop's
    reminder count as this unit of work sees it afterwards, and the leads the caller now
    has chosen."""

    drop: Row[Any]
    reminded: bool
    changed: bool
    reminder_count: int
    offsets: list[int] | None = None


# Remind me is the one request the launch rush is made of, so its statements are built
# once (building a statement and its cache key costs more than running it) from Core
# tables (nothing needs the ORM's identity map here), and on PostgreSQL they are composed
# into ONE statement that commits by itself: no BEGIN, no COMMIT, one round trip. SQLite
# has no INSERT inside WITH, so there the same pieces run one after another inside the
# caller's transaction (BEGIN IMMEDIATE: one writer at a time).
_reminders = cast(Table, Reminder.__table__)
_drops = cast(Table, Drop.__table__)
_accounts = cast(Table, Account.__table__)
_media = cast(Table, Media.__table__)

_OPEN = (
    (_reminders.c.drop_id == _drops.c.id)
    & (_reminders.c.account_id == bindparam("p_account"))
    & _reminders.c.ended_at.is_(None)
)
# The drop, its brand, its uploaded image (NULLs without one), and the leads of the
# caller's open reminder before this statement (None: no reminder).
_HEAD = (
    select(
        _drops,
        _accounts.c.username.label("brand_username"),
        _accounts.c.display_name.label("brand_display_name"),
        _accounts.c.is_partner.label("brand_is_partner"),
        _media.c.key.label("media_key"),
        _media.c.fallback.label("media_fallback"),
        _media.c.sizes.label("media_sizes"),
        select(_reminders.c.offsets).where(_OPEN).scalar_subquery().label("was_offsets"),
    )
    .join_from(_drops, _accounts, _accounts.c.id == _drops.c.brand_id)
    .outerjoin(_media, _media.c.id == _drops.c.media_id)
    .where(_drops.c.id == bindparam("p_drop"))
)
_RECENT = (
    select(func.count())
    .select_from(_reminders)
    .where(_reminders.c.account_id == bindparam("p_account"))
    .where(_reminders.c.created_at > bindparam("since", type_=UTCDateTime()))
    .scalar_subquery()
)


def _insert(insert: Callable[[Table], Any]) -> Any:
    """The reminder, only if the drop is still ahead, the caller is in the rollout, the drop
    is sold in the caller's country, and the caller is under the cap of new reminders a
    minute (``cap`` 0: no cap). An open reminder already there (the partial unique index)
    makes it a no-op."""
    now = bindparam("now", type_=UTCDateTime())
    cap = bindparam("cap", type_=Integer())
    chosen = select(
        _drops.c.id, bindparam("p_account", type_=BigId), bindparam("p_offsets"), now
    ).where(
        _drops.c.id == bindparam("p_drop"),
        _drops.c.cancelled_at.is_(None),
        _drops.c.launch_at > now,
        bindparam("eligible", type_=Boolean()),
        regions.sold_in_clause(_drops.c.countries),
        or_(cap == 0, cap > _RECENT),
    )
    return (
        insert(_reminders)
        .from_select(["drop_id", "account_id", "offsets", "created_at"], chosen)
        .on_conflict_do_nothing()
        .returning(_reminders.c.drop_id)
    )


# Undo ends the open period (kept: it says which released notices the shopper still sees).
_CLOSE = (
    update(_reminders)
    .where(
        _reminders.c.drop_id == bindparam("p_drop"),
        _reminders.c.account_id == bindparam("p_account"),
        _reminders.c.ended_at.is_(None),
    )
    .values(ended_at=bindparam("now", type_=UTCDateTime()))
    .returning(_reminders.c.drop_id, _reminders.c.account_id)
)


def _rechoose(insert: Callable[[Table], Any], in_one: bool) -> tuple[Any, Any]:
    """Another choice of leads: the open period with other leads ends, and a new one with
    these begins: (the close, the reopen). On PostgreSQL (``in_one``) the reopen is one
    statement with the close as a CTE; on SQLite they run one after the other."""
    now = bindparam("now", type_=UTCDateTime())
    close = _CLOSE.where(_reminders.c.offsets != bindparam("p_offsets"))
    if in_one:
        closed = close.cte("closed")
        chosen = select(closed.c.drop_id, closed.c.account_id, bindparam("p_offsets"), now)
    else:
        chosen = select(
            bindparam("p_drop", type_=BigId), bindparam("p_account", type_=BigId),
            bindparam("p_offsets"), now,
        )  # fmt: skip
    reopen = insert(_reminders).from_select(
        ["drop_id", "account_id", "offsets", "created_at"], chosen
    )
    return close, reopen.returning(_reminders.c.drop_id)


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
_UNREMIND_PG = _in_one(_CLOSE, -1)
_INSERT_SQLITE = _insert(sqlite.insert)
_RECHOOSE_PG = _rechoose(postgresql.insert, in_one=True)[1]
_CLOSE_OTHER, _REOPEN_SQLITE = _rechoose(sqlite.insert, in_one=False)
_BUMP_SQLITE = {delta: _bump(_drops.c.id == bindparam("p_drop"), delta) for delta in (+1, -1)}


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


def check_offsets(settings: Settings, offsets: list[int] | None) -> str:
    """The stored form of a choice of leads; None means the default lead. 422 for a lead
    that is not on the operator's menu."""
    if offsets is None:
        return format_offsets([settings.reminder_lead_seconds])
    allowed = settings.allowed_offsets
    wrong = [o for o in offsets if o not in allowed]
    if wrong:
        menu = ", ".join(str(o) for o in sorted(allowed, reverse=True))
        raise errors.InvalidOffset(
            f"{wrong[0]} seconds is not one of the leads you can choose ({menu} seconds)."
        )
    return format_offsets(offsets)


async def _rechoose_leads(conn: AsyncConnection, params: dict[str, Any]) -> None:
    if conn.dialect.name == "postgresql":
        await conn.execute(_RECHOOSE_PG, params)
    elif (await conn.execute(_CLOSE_OTHER, params)).first() is not None:
        await conn.execute(_REOPEN_SQLITE, params)


async def remind(
    conn: AsyncConnection,
    clock: Clock,
    settings: Settings,
    caller: Caller,
    drop_id: int,
    offsets: list[int] | None = None,
) -> Toggled:
    """Set a reminder with these leads (None: the default lead). Idempotent: the same call
    again changes nothing (``changed`` is False); other leads change the choice from now on.

    401 is the caller's business; then 422 for a lead off the menu, 404, 403
    ``not_eligible``, 409 once live or cancelled, 429 over the cap of new reminders a
    minute. A lead whose moment has passed gives no back-dated notice (a notice is seen by
    reminders set before it was due); the launch notice still comes.
    """
    chosen = check_offsets(settings, offsets)
    now = clock.now()
    eligible = is_eligible(settings, caller)
    cap = settings.remind_new_drops_per_minute
    params = {
        "p_drop": drop_id,
        "p_account": caller.account_id,
        "p_offsets": chosen,
        "now": now,
        "since": now - timedelta(minutes=1),
        "eligible": eligible,
        "p_country_like": regions.country_like(caller.country),
        "cap": cap,
    }
    drop, changed, count = await _toggle(conn, _REMIND_PG, _INSERT_SQLITE, +1, params)
    if not eligible:
        raise errors.NotEligible()
    if not regions.sold_in(drop.countries, caller.country):
        raise errors.NotEligible(ineligible_reason(settings, caller, drop.countries))
    status = drop_status(drop.launch_at, drop.cancelled_at, now)
    if status == "cancelled":
        raise errors.DropCancelled()
    if status == "live":
        raise errors.DropLive()
    if not changed and drop.was_offsets is not None and drop.was_offsets != chosen:
        await _rechoose_leads(conn, params)
        changed = True
    elif not changed and drop.was_offsets is None and cap:
        # Nothing inserted, and there was no reminder: the cap stopped it, or a second tap
        # of the same caller inserted it a moment ago (then it is there: not a 429).
        recent = await conn.scalar(select(_RECENT), params)
        if (recent or 0) >= cap:
            raise errors.RateLimited(
                f"At most {cap} new reminders a minute; try again in a minute.",
                headers={"Retry-After": "60"},
            )
    return Toggled(drop, True, changed, count, parse_offsets(chosen))


async def unremind(conn: AsyncConnection, clock: Clock, caller: Caller, drop_id: int) -> Toggled:
    """End the reminder: what is still to come stops; what was delivered stays in the
    inbox. Idempotent: without one, nothing changes (``changed`` is False)."""
    params = {"p_drop": drop_id, "p_account": caller.account_id, "now": clock.now()}
    drop, changed, count = await _toggle(conn, _UNREMIND_PG, _CLOSE, -1, params)
    return Toggled(drop, False, changed, count)


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
    if status == "cancelled":
        raise errors.DropCancelled()
    if status == "live":
        raise errors.DropLive()


def _job(
    drop: Drop, kind: str, due_at: datetime, now: datetime, lead: int | None = None
) -> ReminderJob:
    return ReminderJob(
        drop_id=drop.id, kind=kind, lead_seconds=lead, due_at=due_at, state=PENDING,
        created_at=now,
    )  # fmt: skip


async def schedule_launch(
    session: AsyncSession, settings: Settings, drop: Drop, now: datetime
) -> None:
    """Queue a notice for each lead a shopper may choose whose moment is still ahead, and
    the launch notice. (A lead nobody chose is released to nobody: one row, no cost.)"""
    for lead in sorted(settings.allowed_offsets, reverse=True):
        due_at = times.before(drop.launch_at, lead)  # clamped: a huge lead never overflows
        if due_at > now:
            session.add(_job(drop, SOON, due_at, now, lead))
    session.add(_job(drop, LIVE, drop.launch_at, now))
    await session.flush()


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
