"""A shopper's inbox: their personal notifications merged with the notices they see.

Read-time fan-out: a drop's notice is one row, found through the shopper's reminders
(and a brand's announcement through their follows, :mod:`dropbell.notifications.audience`);
nothing is written per subscriber at a launch. Every query here costs what the shopper's
own reminders and follows cost, never what the drop's audience does (the SQL:
:mod:`dropbell.notifications.queries`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dropbell import dialect, errors
from dropbell.accounts.models import Account
from dropbell.accounts.schemas import BrandOut
from dropbell.accounts.service import Viewer
from dropbell.brands.models import Follow
from dropbell.context import Context
from dropbell.drops import service as drops
from dropbell.live import publish
from dropbell.notifications import queries
from dropbell.notifications.audience import covers, follow_covers
from dropbell.notifications.models import DROP_TYPES, DropOpen, NoticeRead, Notification
from dropbell.notifications.queries import unread_count_query
from dropbell.notifications.schemas import NotificationOut
from dropbell.pagination import Page
from dropbell.posts import presenter as post_presenter
from dropbell.reminders.models import Reminder
from dropbell.types import BigId


@dataclass(frozen=True)
class InboxItem:
    """A notification as one shopper has it: the row, and whether they have read it."""

    row: Notification
    read: bool

    @property
    def id(self) -> int:
        return self.row.id


# A shopper with at least this many reminder and follow periods is read by walking the
# newest notices (``queries.walk_statement``) instead of joining every period to its
# drop's (or brand's) notices. None: never walk (the bench's baseline, the join's tests).
WALK_PERIODS: int | None = 100
# The databases on which such shoppers are walked. On PostgreSQL the join, index-only
# (``INCLUDE``), answered them with less CPU than the walk and its second statement at
# 10,000 and at 10,000,000 subscribers (docs/benchmarks.md), and everyone else skips the
# walk's guard there: one statement a page. SQLite's join of thousands of notices is
# what the walk was made for.
WALK_DATABASES = frozenset({"sqlite"})
# How many of the newest notices such a walk looks at before it gives up for the join.
WALK_NOTICES = 1_000


async def list_for(
    session: AsyncSession,
    account_id: int,
    page: Page,
    types: Sequence[str] = (),
    *,
    after_id: int | None = None,
) -> list[InboxItem]:
    """The inbox, newest delivered first (``limit + 1`` items, see Page.trim).

    ``after_id`` keeps only what was delivered after that id (a resumed live stream).

    The notices a shopper sees are found one of two ways, with the same result. For most
    shoppers, through their reminders: each period joined to its drop's notices, which
    costs what their reminders cost (a few). A shopper with hundreds of reminders sees
    thousands of notices, and joining them all to keep the newest 21 is what made their
    page slow on SQLite (7.7 ms of SQL for 1,000 reminders); there, for them, the newest
    notices are walked instead, newest first, each checked against their periods, until a
    page is found (``WALK_DATABASES``). The walk is bounded (``WALK_NOTICES``): if it does
    not fill the page, the join answers.
    """
    fetch = page.limit + 1
    shape = (page.max_id is not None, after_id is not None, bool(types))
    params: dict[str, Any] = {"account_id": account_id}
    if page.max_id is not None:
        params["max_id"] = page.max_id
    if after_id is not None:
        params["after_id"] = after_id
    if types:
        params["types"] = list(types)
    statement = queries.inbox_statement(fetch, *shape)
    database = dialect.name(session)
    if WALK_PERIODS is not None and database in WALK_DATABASES:
        sqlite = database == "sqlite"
        walk = queries.walk_statement(fetch, *shape, WALK_PERIODS, WALK_NOTICES, sqlite)
        walked = list(await session.scalars(walk, params))
        if len(walked) == fetch:  # the newest `fetch` notices they see: exact
            statement = queries.inbox_statement(fetch, *shape, walked=True)
            params["notice_ids"] = walked
    rows = await session.execute(statement, params)
    return [
        InboxItem(row, row.read_at is not None or notice_read is not None)
        for row, notice_read in rows
    ]


# Built once, like the inbox's statements (building this one cost 3 ms of CPU a request).
_UNREAD_COUNT = select(unread_count_query(bindparam("account_id", type_=BigId), reads_once=True))


async def unread_count(session: AsyncSession, account_id: int) -> int:
    count = await session.scalar(_UNREAD_COUNT, {"account_id": account_id})
    return int(count or 0)


async def get_visible(session: AsyncSession, account_id: int, notification_id: int) -> Notification:
    """One notification the shopper has (theirs, or a notice they see), else 404."""
    sees_notice = and_(Notification.account_id.is_(None), queries.sees_notice(account_id))
    row = await session.scalar(
        select(Notification).where(
            Notification.id == notification_id,
            or_(Notification.account_id == account_id, sees_notice),
        )
    )
    if row is None:
        raise errors.NotFound("No such notification.")
    return row


async def is_notice_read(session: AsyncSession, account_id: int, row: Notification) -> bool:
    if row.account_id is not None:
        return row.read_at is not None
    found = await session.scalar(
        select(NoticeRead.read_at).where(
            NoticeRead.account_id == account_id, NoticeRead.notification_id == row.id
        )
    )
    return found is not None


async def mark_read(ctx: Context, viewer: Viewer, notification_id: int) -> InboxItem:
    """Open a notification: read from now on, and counted once in the drop's funnel.

    Someone else's notification is answered like a missing one (404).
    """
    account_id = viewer.account.id
    notification = await get_visible(ctx.session, account_id, notification_id)
    now = ctx.clock.now()
    if notification.account_id is None:
        result = await ctx.session.execute(
            dialect.insert(ctx.session, NoticeRead)
            .values(account_id=account_id, notification_id=notification.id, read_at=now)
            .on_conflict_do_nothing()
        )
        changed = bool(result.rowcount)  # type: ignore[attr-defined]
    else:
        changed = notification.read_at is None
        if changed:
            notification.read_at = now
    if changed:
        publish.unread_changed(ctx.session, account_id)
    if notification.drop_id is not None and notification.type in DROP_TYPES:
        await ctx.session.execute(
            dialect.insert(ctx.session, DropOpen)
            .values(
                notification_id=notification.id,
                account_id=account_id,
                drop_id=notification.drop_id,
                opened_at=now,
            )
            .on_conflict_do_nothing()
        )
    await ctx.session.flush()
    return InboxItem(notification, True)


async def mark_all_read(ctx: Context, viewer: Viewer) -> int:
    """Mark everything delivered so far read; returns how many were unread."""
    account_id, now = viewer.account.id, ctx.clock.now()
    personal = await ctx.session.execute(
        update(Notification)
        .where(Notification.account_id == account_id, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    read_at = literal(now, NoticeRead.read_at.type)
    notices = 0
    for period, cover in ((Reminder, covers), (Follow, follow_covers)):
        unread_notices = (
            select(literal(account_id), Notification.id, read_at)
            .join(period, cover(period, Notification))
            .where(
                period.account_id == account_id,
                Notification.account_id.is_(None),
                queries.unread_notice(account_id),
            )
        )
        inserted = await ctx.session.execute(
            dialect.insert(ctx.session, NoticeRead)
            .from_select(["account_id", "notification_id", "read_at"], unread_notices)
            .on_conflict_do_nothing()
        )
        notices += int(inserted.rowcount or 0)  # type: ignore[attr-defined]
    count = int(personal.rowcount or 0) + notices  # type: ignore[attr-defined]
    if count:
        publish.unread_changed(ctx.session, account_id)
    return count


async def present(
    ctx: Context, items: Sequence[InboxItem], viewer: Viewer
) -> list[NotificationOut]:
    """Notifications with their drops and posts (as the viewer sees them) and actors.

    A fixed number of queries, whatever the number of notifications.
    """
    rows = [item.row for item in items]
    drop_ids = {n.drop_id for n in rows if n.drop_id is not None}
    shown = await drops.present_ids(ctx, drop_ids, viewer)
    actor_ids = {n.actor_id for n in rows if n.actor_id is not None}
    actors = (
        {
            a.id: BrandOut.of(a)
            for a in await ctx.session.scalars(select(Account).where(Account.id.in_(actor_ids)))
        }
        if actor_ids
        else {}
    )
    post_ids = {n.post_id for n in rows if n.post_id is not None}
    post_rows = await post_presenter.load(ctx.session, post_ids)
    shown_posts = {p.id: p for p in await post_presenter.present(ctx, post_rows, viewer)}
    return [
        NotificationOut(
            id=item.row.id,
            type=item.row.type,
            created_at=item.row.created_at,
            read=item.read,
            drop=shown.get(item.row.drop_id) if item.row.drop_id is not None else None,
            post=shown_posts.get(item.row.post_id) if item.row.post_id is not None else None,
            account=actors.get(item.row.actor_id) if item.row.actor_id is not None else None,
            lead_seconds=item.row.lead_seconds,
        )
        for item in items
    ]
