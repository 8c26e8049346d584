"""The brand's figures in people, not taps: the funnel (reminded → told → opened →
clicked through), opens and clicks by source, and new reminders per hour before launch.

Every figure is one set-based statement (``GROUP BY``, ``COUNT(DISTINCT …)``) however many
shoppers a drop has; nothing here loops over shoppers in Python.

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
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    cast,
    distinct,
    extract,
    func,
    literal_column,
    select,
    union,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from dropbell import counting, dialect
from dropbell.accounts.service import Viewer
from dropbell.clock import Clock
from dropbell.drops.models import Drop, DropVisit, ShopClick
from dropbell.drops.schemas import BySource, HourFigures, ShopperFunnel, SourceFigures
from dropbell.notifications.audience import covers
from dropbell.notifications.models import DROP_TYPES, DropOpen, Notification
from dropbell.reminders.models import Reminder

SOURCES = ("notification", "push", "post", "tag", "drop")
# A visit from one of these is the shopper opening a notification of the drop.
NOTIFICATION_SOURCES = ("notification", "push")


async def record_visit(
    session: AsyncSession,
    clock: Clock,
    drop_id: int,
    source: str,
    viewer: Viewer | None,
    viewer_key: str,
) -> None:
    """Count an open of the drop's page from ``source``, once per drop, source and visitor
    (the first visit's time stays). One statement: it commits on its own on a GET's
    read session."""
    await session.execute(
        dialect.insert(session, DropVisit)
        .values(
            drop_id=drop_id,
            source=source,
            account_id=viewer.account.id if viewer else None,
            visitor_key=counting.visitor_key(viewer_key, drop_id),
            created_at=clock.now(),
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


def _told(ids: list[int]) -> Any:
    """Shoppers a released notice reached: a period of theirs covered its due time. Drop
    notifications written per subscriber before notices existed (migration 0003) count
    for their account."""
    reached = (
        select(Notification.drop_id.label("drop_id"), Reminder.account_id.label("account_id"))
        .select_from(Notification)
        .join(Reminder, covers(Reminder, Notification))
        .where(
            Notification.account_id.is_(None),
            Notification.drop_id.in_(ids),
            Notification.type.in_(DROP_TYPES),
        )
    )
    personal = select(Notification.drop_id, Notification.account_id).where(
        Notification.account_id.is_not(None),
        Notification.job_id.is_not(None),
        Notification.drop_id.in_(ids),
        Notification.type.in_(DROP_TYPES),
    )
    return _pairs_count(reached, personal)


def _opened(ids: list[int]) -> Any:
    inbox = select(DropOpen.drop_id.label("drop_id"), DropOpen.account_id.label("account_id"))
    pushed = select(DropVisit.drop_id, DropVisit.account_id).where(
        DropVisit.drop_id.in_(ids),
        DropVisit.source.in_(NOTIFICATION_SOURCES),
        DropVisit.account_id.is_not(None),
    )
    return _pairs_count(inbox.where(DropOpen.drop_id.in_(ids)), pushed)


def _click_person() -> ColumnElement[str]:
    return func.coalesce(
        _account(ShopClick.account_id),
        _text("v:") + ShopClick.visitor_key,
        _text("k:") + ShopClick.once_key,
        _text("i:") + cast(ShopClick.id, String),
    )


async def funnels(session: AsyncSession, drop_ids: Sequence[int]) -> dict[int, ShopperFunnel]:
    """Each drop's funnel in shoppers: four statements whatever the number of drops."""
    ids = list(drop_ids)
    if not ids:
        return {}
    reminded = await _per_drop(
        session,
        select(Reminder.drop_id, func.count(distinct(Reminder.account_id)))
        .where(Reminder.drop_id.in_(ids))
        .group_by(Reminder.drop_id),
    )
    told = await _per_drop(session, _told(ids))
    opened = await _per_drop(session, _opened(ids))
    visitor = func.coalesce(ShopClick.visitor_key, ShopClick.once_key, cast(ShopClick.id, String))
    anonymous = func.count(distinct(visitor)).filter(ShopClick.account_id.is_(None))
    clicks = {
        int(drop_id): (int(shoppers), int(visitors))
        for drop_id, shoppers, visitors in await session.execute(
            select(ShopClick.drop_id, func.count(distinct(ShopClick.account_id)), anonymous)
            .where(ShopClick.drop_id.in_(ids))
            .group_by(ShopClick.drop_id)
        )
    }
    return {
        drop_id: ShopperFunnel(
            reminded=reminded.get(drop_id, 0),
            told=told.get(drop_id, 0),
            opened=opened.get(drop_id, 0),
            clicked=clicks.get(drop_id, (0, 0))[0],
            clicked_anonymous=clicks.get(drop_id, (0, 0))[1],
        )
        for drop_id in ids
    }


async def by_source(session: AsyncSession, drop_id: int) -> BySource:
    """Distinct people who opened the drop, and who tapped Shop on website, per source.

    An open from the inbox is a ``drop_opens`` row (the API's ``POST …/read``) or a visit
    the inbox led to; the same shopper both ways counts once."""
    visitor = func.coalesce(_account(DropVisit.account_id), _text("v:") + DropVisit.visitor_key)
    people = union_all(
        select(
            _text("notification").label("source"), _account(DropOpen.account_id).label("who")
        ).where(DropOpen.drop_id == drop_id),
        select(DropVisit.source, visitor).where(DropVisit.drop_id == drop_id),
    ).subquery()
    opens = dict(
        (source, int(n))
        for source, n in await session.execute(
            select(people.c.source, func.count(distinct(people.c.who))).group_by(people.c.source)
        )
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


async def reminders_by_hour(session: AsyncSession, drop: Drop) -> list[HourFigures]:
    """Shoppers by the hour before the launch in which they first set Remind me (a later
    change of leads, or Undo and Remind me again, is the same shopper): earliest first."""
    first = (
        select(
            func.min(Reminder.created_at).label("first"), func.min(Drop.launch_at).label("launch")
        )
        .join(Drop, Drop.id == Reminder.drop_id)
        .where(Reminder.drop_id == drop.id)
        .group_by(Reminder.account_id)
        .subquery()
    )
    hours = select(_hour_before(session, first.c.launch, first.c.first).label("h")).subquery()
    counts: dict[int, int] = {}
    for h, n in await session.execute(select(hours.c.h, func.count()).group_by(hours.c.h)):
        at = max(0, int(h))  # never after the launch (Remind me is refused then)
        counts[at] = counts.get(at, 0) + int(n)
    return [
        HourFigures(
            hours_before=h, start=drop.launch_at - timedelta(hours=h + 1), reminders=counts[h]
        )
        for h in sorted(counts, reverse=True)
    ]
