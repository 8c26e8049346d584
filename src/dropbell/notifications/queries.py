"""The inbox's SQL, built once per shape of request: the page (a join, or a walk of the
newest notices) and the unread count.

A shopper's inbox is three sources merged by id: their personal rows, the notices their
reminder periods cover (:func:`~dropbell.notifications.audience.covers`) and the
announcements their follow periods cover (:func:`~dropbell.notifications.audience.follow_covers`).
Each is keyset-paged on its own index, so every query costs what the shopper's own
reminders and follows cost, never what a drop's or a brand's audience does.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from dropbell.brands.models import Follow
from dropbell.notifications.audience import covers, follow_covers
from dropbell.notifications.models import NoticeRead, Notification, NotificationType
from dropbell.reminders.models import Reminder
from dropbell.types import BigId


def personal_ids(account_id: Any) -> Any:
    return select(Notification.id).where(Notification.account_id == account_id)


def reminded_ids(account_id: Any) -> Any:
    """The notices ``account_id``'s reminder periods cover."""
    return (
        select(Notification.id)
        .join(Reminder, covers(Reminder, Notification))
        .where(Reminder.account_id == account_id, Notification.account_id.is_(None))
    )


def followed_ids(account_id: Any) -> Any:
    """The announcements ``account_id``'s follow periods cover."""
    return (
        select(Notification.id)
        .join(Follow, follow_covers(Follow, Notification))
        .where(Follow.account_id == account_id, Notification.account_id.is_(None))
    )


def unread_notice(account_id: Any, notice: Any = Notification) -> Any:
    # Correlated explicitly: when ``account_id`` is a column of a query two levels up
    # (the live hub's ``unread_count_query(Reminder.account_id)``), auto-correlation would
    # not reach it and would put that table in the subquery's FROM instead (a cross join:
    # "read by anyone", and a scan of notice_reads for every notice).
    return ~exists().where(
        NoticeRead.account_id == account_id, NoticeRead.notification_id == notice.id
    ).correlate_except(NoticeRead)


def sees_notice(account_id: Any, notice: Any = Notification) -> Any:
    """``notice`` (a released notice) is one ``account_id`` sees: a reminder period covers
    it or, for an announcement, a follow period. The follow is probed only for an
    announcement (both databases evaluate the ``AND`` in order)."""
    return or_(
        exists().where(Reminder.account_id == account_id, covers(Reminder, notice)),
        and_(
            notice.type == NotificationType.DROP_ANNOUNCED,
            exists().where(Follow.account_id == account_id, follow_covers(Follow, notice)),
        ),
    )


def bounded(ids: Any, paged: bool, resumed: bool, typed: bool) -> Any:
    if paged:
        ids = ids.where(Notification.id < bindparam("max_id", type_=BigId))
    if resumed:
        ids = ids.where(Notification.id > bindparam("after_id", type_=BigId))
    if typed:
        ids = ids.where(Notification.type.in_(bindparam("types", expanding=True)))
    return ids


def _periods_at_least(account_id: Any, periods: int) -> Any:
    """Whether ``account_id`` has at least ``periods`` reminder and follow periods, with
    at most ``periods`` index entries read of each."""

    def some(table: Any) -> Any:
        first = select(literal(1)).where(table.account_id == account_id).limit(periods)
        return select(func.count()).select_from(first.subquery()).scalar_subquery()

    return some(Reminder) + some(Follow) >= periods


@lru_cache(maxsize=64)
def walk_statement(
    fetch: int, paged: bool, resumed: bool, typed: bool, periods: int, notices: int, sqlite: bool
) -> Any:
    """The ids of the newest ``fetch`` notices the shopper sees among the newest
    ``notices`` (within the page's bounds), newest first, stopping at the ``fetch``-th (a
    backward scan of the primary key). None unless the shopper has at least ``periods``
    reminder and follow periods.

    The guard and the oldest id the walk may reach are subqueries that do not depend on
    the row, evaluated once: a shopper with a few reminders pays one short probe, not a
    walk. SQLite, given ``account_id IS NULL``, takes every notice off the ``(account_id,
    job_id)`` key and sorts them (4 ms for 8,000 notices); with the column kept off the
    index (``+account_id``) it reads the newest rows first and stops."""
    account_id = bindparam("account_id", type_=BigId)
    column = Notification.account_id.expression
    if sqlite:
        column = UnaryExpression(column, operator=operators.custom_op("+"))
    notice = column.is_(None)
    oldest = (
        bounded(select(Notification.id).where(notice), paged, resumed, typed)
        .order_by(Notification.id.desc())
        .offset(notices - 1)
        .limit(1)
        .scalar_subquery()
    )
    walk = select(Notification.id).where(
        _periods_at_least(account_id, periods),
        notice,
        Notification.id >= func.coalesce(oldest, 0),
        sees_notice(account_id),
    )
    return bounded(walk, paged, resumed, typed).order_by(Notification.id.desc()).limit(fetch)


@lru_cache(maxsize=256)
def inbox_statement(
    fetch: int, paged: bool, resumed: bool, typed: bool, *, walked: bool = False
) -> Any:
    """``list_for``'s statement for one shape of request, built once: building it (and its
    cache key) cost more CPU than running it (3 ms against 0.4 ms for a shopper with a few
    reminders). The account, ``max_id``, ``after_id`` and types are bind parameters; the
    page size stays a literal, so PostgreSQL plans with it. ``walked``: the notices are
    the ids a walk found (``notice_ids``), not the joins."""
    account_id = bindparam("account_id", type_=BigId)
    notices = (
        [
            select(Notification.id).where(
                Notification.id.in_(bindparam("notice_ids", expanding=True))
            )
        ]
        if walked
        else [
            bounded(reminded_ids(account_id), paged, resumed, typed),
            bounded(followed_ids(account_id), paged, resumed, typed),
        ]
    )
    parts = [bounded(personal_ids(account_id), paged, resumed, typed), *notices]
    merged = union_all(
        *(select(part.order_by(Notification.id.desc()).limit(fetch).subquery().c.id)
          for part in parts)
    ).subquery()  # fmt: skip
    return (
        select(Notification, NoticeRead.read_at)
        .outerjoin(
            NoticeRead,
            and_(
                NoticeRead.notification_id == Notification.id,
                NoticeRead.account_id == account_id,
            ),
        )
        .where(Notification.id.in_(select(merged.c.id)))
        .order_by(Notification.id.desc())
        .limit(fetch)
    )


def unread_count_query(account_id: Any, *, reads_once: bool = False) -> Any:
    """The unread count of ``account_id`` (a value, or a column of an outer query: it has
    its own aliases, so it correlates only through ``account_id``), as a scalar subquery.

    ``reads_once`` (for a value only): the account's reads are looked up once, as a set
    (``NOT IN``: PostgreSQL hashes it, SQLite makes it a list), instead of one probe per
    notice the account sees (``NOT EXISTS``). A heavy shopper sees thousands of notices:
    for one with 1,000 reminders and 4,000 notices, 9 in 10 read, that took the count from
    12,000 index probes (4 to 10 ms) to one scan of 3,600 (2 to 3.5 ms). Both databases
    build the set only when a row asks for it: a shopper who follows nobody pays one probe
    of ``follows`` for the announcements' count.
    """
    mine = aliased(Notification)

    def unread(notice: Any) -> Any:
        if not reads_once:
            return unread_notice(account_id, notice)
        return notice.id.not_in(
            select(NoticeRead.notification_id)
            .where(NoticeRead.account_id == account_id)
            .correlate_except(NoticeRead)
        )

    def seen_through(table: Any, cover: Any) -> Any:
        notice, period = aliased(Notification), aliased(table)
        return (
            select(func.count())
            .select_from(notice)
            .join(period, cover(period, notice))
            .where(period.account_id == account_id, notice.account_id.is_(None), unread(notice))
            .scalar_subquery()
        )

    personal = (
        select(func.count())
        .select_from(mine)
        .where(mine.account_id == account_id, mine.read_at.is_(None))
        .scalar_subquery()
    )
    return personal + seen_through(Reminder, covers) + seen_through(Follow, follow_covers)
