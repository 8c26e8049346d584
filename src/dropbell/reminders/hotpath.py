"""Remind me and its undo: the one request a launch rush is made of, in one module.

Here are its unit of work (:func:`connection`: a plain connection through a FIFO gate),
its prebuilt statements for both databases, the typed row they return
(:class:`ToggledDrop`) and the toggles (:func:`remind`, :func:`unremind`). The caller is
a :class:`~dropbell.accounts.service.Caller`, read with one Core query
(``accounts.deps.CurrentCaller``); the card is drawn from the row by
``drops.presenter.present_toggled``, with no further query. The schedule of a drop's
reminder jobs and the reads of a shopper's reminders are in ``reminders.service``.

The connection's work commits by itself on PostgreSQL (one statement); on SQLite it is
one ``BEGIN IMMEDIATE`` transaction, committed by :func:`connection` after the endpoint.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter
from typing import NamedTuple, cast

from fastapi import Request
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Executable,
    Integer,
    Table,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.dml import ReturningInsert, ReturningUpdate

from dropbell import errors
from dropbell.accounts.models import Account
from dropbell.accounts.service import Caller
from dropbell.clock import Clock
from dropbell.config import Settings
from dropbell.db import UTCDateTime
from dropbell.drops import regions
from dropbell.drops.models import Drop, DropStatus, drop_status
from dropbell.drops.rollout import ineligible_reason, is_eligible
from dropbell.media.models import Media
from dropbell.reminders.models import Reminder, format_offsets, parse_offsets
from dropbell.types import BigId


async def connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """Remind me's unit of work: a connection, no ORM session (``accounts.deps.Conn``).

    On PostgreSQL every statement commits by itself: Remind me is one statement, atomic on
    its own, so it pays no BEGIN and no COMMIT round trip. On SQLite the request's
    statements share one transaction (BEGIN IMMEDIATE), committed after the endpoint.
    Nothing here registers side effects: a change that must notify uses the session.

    Requests take their turn at the pool through a FIFO gate as wide as the pool
    (``app.state.connection_gate``). SQLAlchemy's pool queue lets a request that just
    arrived take a returned connection ahead of one that has been waiting, and in the
    Remind-me rush that tripled p99 (300 ms against 126 ms with the gate, the same
    requests/s). Only Remind me comes here, so the gate is its own.
    """
    engine: AsyncEngine = request.app.state.engine
    gate: asyncio.Semaphore = request.app.state.connection_gate
    async with gate, engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn
        else:
            async with conn.begin():
                yield conn


class ToggledDrop(NamedTuple):
    """The drop as Remind me (or its undo) read it, before its own change: the columns its
    card shows, its brand's public fields, its upload (all None without one) and the
    caller's leads before the toggle (``was_offsets``, stored form; None: no reminder)."""

    id: int
    brand_id: int
    title: str
    description: str
    price: str | None
    currency: str | None
    image_url: str | None
    image_alt: str
    media_id: int | None
    countries: str | None
    launch_at: datetime
    tag: str
    shop_url: str
    post_id: int
    reminder_count: int
    cancelled_at: datetime | None
    brand_username: str
    brand_display_name: str
    brand_is_partner: bool
    media_key: str | None
    media_fallback: str | None
    media_sizes: str | None
    was_offsets: str | None


@dataclass(frozen=True)
class Toggled:
    """What Remind me (or its undo) left: the drop as it read it, whether the caller now
    has a reminder on it, whether a reminder row really changed, the drop's reminder
    count as this unit of work sees it afterwards, and the leads the caller now has
    chosen."""

    drop: ToggledDrop
    reminded: bool
    changed: bool
    reminder_count: int
    offsets: list[int] | None = None


Params = Mapping[str, object]

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

# A row of _HEAD (and of the PostgreSQL statements, which add ``new_count`` at the end)
# as a ToggledDrop: the fields picked by name once, here, so a column added to drops
# moves nothing (and a field the statement lacks fails at import, not in a request).
_PICK = itemgetter(*[list(_HEAD.selected_columns.keys()).index(f) for f in ToggledDrop._fields])

# The dialects' INSERT … ON CONFLICT constructors.
Insert = Callable[[Table], postgresql.Insert] | Callable[[Table], sqlite.Insert]


def _insert(insert: Insert) -> ReturningInsert[tuple[int]]:
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
_CLOSE: ReturningUpdate[tuple[int, int]] = (
    update(_reminders)
    .where(
        _reminders.c.drop_id == bindparam("p_drop"),
        _reminders.c.account_id == bindparam("p_account"),
        _reminders.c.ended_at.is_(None),
    )
    .values(ended_at=bindparam("now", type_=UTCDateTime()))
    .returning(_reminders.c.drop_id, _reminders.c.account_id)
)


def _rechoose(
    insert: Insert, in_one: bool
) -> tuple[ReturningUpdate[tuple[int, int]], ReturningInsert[tuple[int]]]:
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


def _bump(which: ColumnElement[bool], delta: int) -> ReturningUpdate[tuple[int]]:
    """Move the counter with the reminder row that really changed, so it stays exact under
    any concurrency (the row lock on the drop is held only until the change commits)."""
    return (
        update(_drops)
        .where(which)
        .values(reminder_count=_drops.c.reminder_count + delta)
        .returning(_drops.c.reminder_count)
    )


def _in_one(
    change: ReturningInsert[tuple[int]] | ReturningUpdate[tuple[int, int]], delta: int
) -> Executable:
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
    conn: AsyncConnection, one: Executable, change: Executable, delta: int, params: Params
) -> tuple[ToggledDrop, bool, int]:
    """(the drop as it was, whether a reminder row changed, the count afterwards)."""
    new_count: int | None
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
    drop = ToggledDrop._make(_PICK(row))
    if new_count is None:
        return drop, False, drop.reminder_count
    return drop, True, new_count


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


async def _rechoose_leads(conn: AsyncConnection, params: Params) -> None:
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
    if status == DropStatus.CANCELLED:
        raise errors.DropCancelled()
    if status == DropStatus.LIVE:
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
