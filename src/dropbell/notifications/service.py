"""A shopper's inbox: list, count unread, open (read), read all."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dropbell import dialect, errors
from dropbell.accounts.models import Account
from dropbell.accounts.schemas import BrandOut
from dropbell.accounts.service import Viewer
from dropbell.clock import Clock
from dropbell.config import Settings
from dropbell.drops import service as drops
from dropbell.drops.models import Drop
from dropbell.notifications import stream
from dropbell.notifications.models import DROP_TYPES, DropOpen, Notification
from dropbell.notifications.schemas import NotificationOut
from dropbell.pagination import Page
from dropbell.posts import service as posts


async def list_for(
    session: AsyncSession, viewer: Viewer, page: Page, types: Sequence[str] = ()
) -> list[Notification]:
    """The viewer's notifications, newest first (``limit + 1`` rows, see Page.trim)."""
    query = (
        select(Notification)
        .where(Notification.account_id == viewer.account.id)
        .order_by(Notification.id.desc())
        .limit(page.limit + 1)
    )
    if page.max_id is not None:
        query = query.where(Notification.id < page.max_id)
    if types:
        query = query.where(Notification.type.in_(types))
    return list(await session.scalars(query))


async def unread_count(session: AsyncSession, account_id: int) -> int:
    count = await session.scalar(
        select(func.count()).where(
            Notification.account_id == account_id, Notification.read_at.is_(None)
        )
    )
    return count or 0


async def mark_read(
    session: AsyncSession, clock: Clock, viewer: Viewer, notification_id: int
) -> Notification:
    """Open a notification: read from now on, and counted once in the drop's funnel.

    Someone else's notification is answered like a missing one (404).
    """
    notification = await session.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.account_id == viewer.account.id
        )
    )
    if notification is None:
        raise errors.NotFound("No such notification.")
    now = clock.now()
    if notification.read_at is None:
        notification.read_at = now
        stream.unread_changed(session, viewer.account.id)
    if notification.drop_id is not None and notification.type in DROP_TYPES:
        await session.execute(
            dialect.insert(session, DropOpen)
            .values(
                notification_id=notification.id,
                drop_id=notification.drop_id,
                account_id=viewer.account.id,
                opened_at=now,
            )
            .on_conflict_do_nothing()
        )
    await session.flush()
    return notification


async def mark_all_read(session: AsyncSession, clock: Clock, viewer: Viewer) -> int:
    result = await session.execute(
        update(Notification)
        .where(Notification.account_id == viewer.account.id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        stream.unread_changed(session, viewer.account.id)
    return count


async def present(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    rows: Sequence[Notification],
    viewer: Viewer,
) -> list[NotificationOut]:
    """Notifications with their drops and posts (as the viewer sees them) and actors.

    A fixed number of queries, whatever the number of notifications.
    """
    drop_ids = {n.drop_id for n in rows if n.drop_id is not None}
    drop_rows = (
        list(await session.scalars(select(Drop).where(Drop.id.in_(drop_ids)))) if drop_ids else []
    )
    shown = {d.id: d for d in await drops.present(session, clock, settings, drop_rows, viewer)}
    actor_ids = {n.actor_id for n in rows if n.actor_id is not None}
    actors = (
        {
            a.id: BrandOut(id=a.id, username=a.username, display_name=a.display_name)
            for a in await session.scalars(select(Account).where(Account.id.in_(actor_ids)))
        }
        if actor_ids
        else {}
    )
    post_ids = {n.post_id for n in rows if n.post_id is not None}
    post_rows = await posts.load(session, post_ids)
    shown_posts = {
        p.id: p for p in await posts.present(session, clock, settings, post_rows, viewer)
    }
    return [
        NotificationOut(
            id=n.id,
            type=n.type,
            created_at=n.created_at,
            read=n.read_at is not None,
            drop=shown.get(n.drop_id) if n.drop_id is not None else None,
            post=shown_posts.get(n.post_id) if n.post_id is not None else None,
            account=actors.get(n.actor_id) if n.actor_id is not None else None,
        )
        for n in rows
    ]
