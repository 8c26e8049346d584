"""The brand's figures in people, not taps: the funnel (reminded → told → opened →
clicked through), opens and clicks by source, and new reminders per hour before launch.

Every figure is a set-based statement (``GROUP BY``, ``COUNT(DISTINCT …)``), a fixed
number of them however many shoppers a drop has; nothing here loops over shoppers in
Python. A drop's reminder periods are read once: its few released notices are read first
and written into that query (``_covered``), so the periods are not joined to them.

Who is one person:

- a **shopper** is an account: their reminder periods, the notices those covered (see
  :mod:`dropbell.notifications.audience`), their opens and clicks are matched by account;
- someone **not logged in** is their ``visitor_key`` (``dropbell.counting``: their address,
  an IPv6 address by its /64, for good). They are in the opens and clicks by source, and
  the funnel counts their clicks apart (``clicked_anonymous``): the funnel's steps are
  shoppers. A click recorded before migration 0012 has no visitor key: it counts by its
  account, else by its hour's key (a visitor back the next hour counted again).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, get_args

from sqlalchemy import (
    Integer,
    String,
    case,
    cast,
    distinct,
    exists,
    extract,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from dropbell import counting, dialect
from dropbell.accounts.service import Viewer
from dropbell.context import Context
from dropbell.db import UTCDateTime
from dropbell.drops.models import Drop, DropVisit, ShopClick
from dropbell.drops.schemas import (
    BySource,
    HourFigures,
    ShopperFunnel,
    ShopSource,
    SourceFigures,
)
from dropbell.notifications.audience import covers
from dropbell.notifications.models import DROP_TYPES, DropOpen, Notification
from dropbell.reminders.models import DONE, Reminder, ReminderJob
from dropbell.types import BigId

SOURCES: tuple[str, ...] = get_args(ShopSource)  # the API's list, in its order
# A visit from one of these is the shopper opening a notification of the drop.
NOTIFICATION_SOURCES = ("notification", "push")


async def record_visit(
    ctx: Context, drop_id: int, source: str, viewer: Viewer | None, viewer_key: str
) -> None:
    """Count an open of the drop's page from ``source``, once per drop, source and visitor
    (the first visit's time stays). One statement: it commits on its own on a GET's
    read session."""
    await ctx.session.execute(
        dialect.insert(ctx.session, DropVisit)
        .values(
            drop_id=drop_id,
            source=source,
            account_id=viewer.account.id if viewer else None,
            visitor_key=counting.visitor_key(viewer_key, drop_id),
            created_at=ctx.clock.now(),
        )
        .on_conflict_do_nothing()
    )


def _text(value: str) -> ColumnElement[str]:
    return literal_column(f"'{value}'", String)


def _account(column: Any) -> ColumnElement[str]:
    """An account id as a person's key ("a:12"); NULL when the column is."""
    return _text("a:") + cast(column, String)


async def _per_drop(session: AsyncSession, query: Any) -> dict[int, int]:
    return {int(drop_id): int(n) for drop_id, n in await session.execute(query)}


def _pairs_count(*queries: Any) -> Any:
    """How many distinct (drop, account) pairs the queries give, per drop."""
    pairs = union(*queries).subquery()
    return select(pairs.c.drop_id, func.count()).group_by(pairs.c.drop_id)


Moment = tuple[str, int | None, datetime]  # a released notice: type, lead, due time


async def _moments(session: AsyncSession, ids: list[int]) -> dict[int, list[Moment]]:
    """The drops' released notices (a few rows a drop: its leads, launch, reschedules)."""
    found: dict[int, list[Moment]] = {}
    for drop_id, kind, lead, due in await session.execute(
        select(
            Notification.drop_id, Notification.type, Notification.lead_seconds, Notification.due_at
        ).where(
            Notification.account_id.is_(None),
            Notification.drop_id.in_(ids),
            Notification.type.in_(DROP_TYPES),
        )
    ):
        if drop_id is not None and due is not None:  # a notice has both
            found.setdefault(drop_id, []).append((kind, lead, due))
    return found


def _covered(moments: dict[int, list[Moment]]) -> ColumnElement[bool]:
    """Whether a reminder period (a row of ``reminders``) covers one of the drops'
    released notices: :func:`covers`, with each notice's values written into the query,
    so the periods are read once and never joined to the notices."""
    notices = [
        SimpleNamespace(
            drop_id=literal(drop_id, BigId),
            type=literal(kind, String),
            lead_seconds=literal(lead, Integer),
            due_at=literal(due, UTCDateTime()),
        )
        for drop_id, found in moments.items()
        for kind, lead, due in found
    ]
    return or_(false(), *(covers(Reminder, notice) for notice in notices))


def _per_shopper(ids: list[int], moments: dict[int, list[Moment]]) -> Any:
    """One row per drop and shopper who ever set Remind me: when they first did, and
    whether a released notice reached them (1) or not (0)."""
    told = case((_covered(moments), 1), else_=0)
    return (
        select(
            Reminder.drop_id.label("drop_id"),
            func.min(Reminder.created_at).label("first"),
            func.max(told).label("told"),
        )
        .where(Reminder.drop_id.in_(ids))
        .group_by(Reminder.drop_id, Reminder.account_id)
        .subquery()
    )


async def _told_before_notices(
    session: AsyncSession, ids: list[int], moments: dict[int, list[Moment]]
) -> dict[int, int]:
    """Shoppers told, for drops with notifications written per subscriber before notices
    existed (migration 0003: a released job without its notice row): those rows count for
    their account too. Other drops never take this slower way."""
    notice = aliased(Notification)
    legacy = [
        int(drop_id)
        for drop_id in await session.scalars(
            select(ReminderJob.drop_id)
            .distinct()
            .where(
                ReminderJob.drop_id.in_(ids),
                ReminderJob.state == DONE,
                ~exists().where(notice.job_id == ReminderJob.id, notice.account_id.is_(None)),
            )
        )
    ]
    if not legacy:
        return {}
    periods = select(Reminder.drop_id, Reminder.account_id).where(
        Reminder.drop_id.in_(legacy), _covered({d: moments.get(d, []) for d in legacy})
    )
    personal = select(Notification.drop_id, Notification.account_id).where(
        Notification.account_id.is_not(None),
        Notification.job_id.is_not(None),
        Notification.drop_id.in_(legacy),
        Notification.type.in_(DROP_TYPES),
    )
    return await _per_drop(session, _pairs_count(periods, personal))


async def _opened(session: AsyncSession, ids: list[int]) -> dict[int, int]:
    inbox = select(DropOpen.drop_id.label("drop_id"), DropOpen.account_id.label("account_id"))
    pushed = select(DropVisit.drop_id, DropVisit.account_id).where(
        DropVisit.drop_id.in_(ids),
        DropVisit.source.in_(NOTIFICATION_SOURCES),
        DropVisit.account_id.is_not(None),
    )
    return await _per_drop(session, _pairs_count(inbox.where(DropOpen.drop_id.in_(ids)), pushed))


def _click_person() -> ColumnElement[str]:
    return func.coalesce(
        _account(ShopClick.account_id),
        _text("v:") + ShopClick.visitor_key,
        _text("k:") + ShopClick.once_key,
        _text("i:") + cast(ShopClick.id, String),
    )


async def _clicked(session: AsyncSession, ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per drop: shoppers (accounts) who tapped Shop, and visitors without an account."""
    visitor = func.coalesce(ShopClick.visitor_key, ShopClick.once_key, cast(ShopClick.id, String))
    anonymous = func.count(distinct(visitor)).filter(ShopClick.account_id.is_(None))
    return {
        int(drop_id): (int(shoppers), int(visitors))
        for drop_id, shoppers, visitors in await session.execute(
            select(ShopClick.drop_id, func.count(distinct(ShopClick.account_id)), anonymous)
            .where(ShopClick.drop_id.in_(ids))
            .group_by(ShopClick.drop_id)
        )
    }


async def _funnels(
    session: AsyncSession, reached: dict[int, tuple[int, int]], moments: dict[int, list[Moment]]
) -> dict[int, ShopperFunnel]:
    """The funnels, given each drop's (reminded, told) from the periods."""
    ids = list(reached)
    told = {d: t for d, (_r, t) in reached.items()} | await _told_before_notices(
        session, ids, moments
    )
    opened, clicked = await _opened(session, ids), await _clicked(session, ids)
    return {
        d: ShopperFunnel(
            reminded=reached[d][0],
            told=told[d],
            opened=opened.get(d, 0),
            clicked=clicked.get(d, (0, 0))[0],
            clicked_anonymous=clicked.get(d, (0, 0))[1],
        )
        for d in ids
    }


async def funnels(session: AsyncSession, drop_ids: Sequence[int]) -> dict[int, ShopperFunnel]:
    """Each drop's funnel in shoppers, a fixed number of statements whatever the number
    of drops or shoppers (the console's list)."""
    ids = list(drop_ids)
    if not ids:
        return {}
    moments = await _moments(session, ids)
    shoppers = _per_shopper(ids, moments)
    reached = dict.fromkeys(ids, (0, 0))
    for drop_id, n, told in await session.execute(
        select(shoppers.c.drop_id, func.count(), func.sum(shoppers.c.told)).group_by(
            shoppers.c.drop_id
        )
    ):
        reached[int(drop_id)] = (int(n), int(told or 0))
    return await _funnels(session, reached, moments)


async def by_source(session: AsyncSession, drop_id: int) -> BySource:
    """Distinct people who opened the drop, and who tapped Shop on website, per source.

    A visit is one row per drop, source and visitor, so a source's visits are its people.
    An open from the inbox is a ``drop_opens`` row (the API's ``POST …/read``) or a visit
    the inbox led to; the same shopper both ways counts once."""
    opens = {
        source: int(n)
        for source, n in await session.execute(
            select(DropVisit.source, func.count())
            .where(DropVisit.drop_id == drop_id)
            .group_by(DropVisit.source)
        )
    }
    inbox = union(
        select(DropOpen.account_id).where(DropOpen.drop_id == drop_id),
        select(DropVisit.account_id).where(
            DropVisit.drop_id == drop_id,
            DropVisit.source == "notification",
            DropVisit.account_id.is_not(None),
        ),
    ).subquery()
    anonymous = await session.scalar(
        select(func.count()).where(
            DropVisit.drop_id == drop_id,
            DropVisit.source == "notification",
            DropVisit.account_id.is_(None),
        )
    )
    opens["notification"] = int(
        (await session.scalar(select(func.count()).select_from(inbox)) or 0) + (anonymous or 0)
    )
    clicks = dict(
        (source, int(n))
        for source, n in await session.execute(
            select(ShopClick.source, func.count(distinct(_click_person())))
            .where(ShopClick.drop_id == drop_id)
            .group_by(ShopClick.source)
        )
    )
    return BySource(
        **{
            source: SourceFigures(opens=opens.get(source, 0), clicks=clicks.get(source, 0))
            for source in SOURCES
        }
    )


def _hour_before(session: AsyncSession, launch: Any, when: Any) -> ColumnElement[int]:
    """Which hour before ``launch`` the instant ``when`` falls in: 0 for [launch - 1 h,
    launch), 1 for [launch - 2 h, launch - 1 h), … (in the database)."""
    if dialect.is_postgres(session):
        return cast(func.ceil(extract("epoch", launch - when) / 3600), Integer) - 1
    # SQLite: julianday is a float of days; to whole milliseconds first, so an instant
    # exactly N hours before is in hour N - 1, not N by a rounding error.
    ms = cast((func.julianday(launch) - func.julianday(when)) * 86_400_000 + 0.5, Integer)
    return (ms - 1) // 3_600_000


@dataclass(frozen=True)
class Figures:
    funnel: ShopperFunnel
    sources: BySource
    reminders_by_hour: list[HourFigures]


async def figures(session: AsyncSession, drop: Drop) -> Figures:
    """One drop's figures in people. Its reminder periods are read once, grouped by
    shopper: when each first set Remind me (the hour before launch it falls in) and
    whether a released notice reached them; a later change of leads, or Undo and Remind
    me again, is the same shopper."""
    moments = await _moments(session, [drop.id])
    shoppers = _per_shopper([drop.id], moments)
    launch = literal(drop.launch_at, UTCDateTime())
    hours = select(
        _hour_before(session, launch, shoppers.c.first).label("h"), shoppers.c.told
    ).subquery()
    counts: dict[int, int] = {}
    told = 0
    for h, n, reached in await session.execute(
        select(hours.c.h, func.count(), func.sum(hours.c.told)).group_by(hours.c.h)
    ):
        at = max(0, int(h))  # never after the launch (Remind me is refused then)
        counts[at] = counts.get(at, 0) + int(n)
        told += int(reached or 0)
    series = [
        HourFigures(
            hours_before=h, start=drop.launch_at - timedelta(hours=h + 1), reminders=counts[h]
        )
        for h in sorted(counts, reverse=True)
    ]
    funnel = await _funnels(session, {drop.id: (sum(counts.values()), told)}, moments)
    return Figures(funnel[drop.id], await by_source(session, drop.id), series)
