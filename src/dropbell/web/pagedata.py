"""What each web page shows, gathered from the domain services: the dataclasses its
template reads, and the page-only rules (the home feed leaves out called-off drops, a
drop's pages do not repeat its announcement). Actions are not here: a handler calls the
service itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from dropbell.accounts.service import Viewer, caller_of
from dropbell.context import Context
from dropbell.drops import access, analytics
from dropbell.drops import service as drops
from dropbell.drops.models import DropStatus
from dropbell.drops.rollout import ineligible_reason
from dropbell.drops.schemas import DropOut
from dropbell.notifications import service as notifications
from dropbell.notifications.schemas import NotificationOut
from dropbell.pagination import Page
from dropbell.posts import feeds
from dropbell.posts import presenter as post_presenter
from dropbell.posts.schemas import PostOut
from dropbell.reminders import service as reminders

PAGE_SIZE = 20


@dataclass
class Timeline:
    """Posts newest first: drop announcements (shown as drop cards), posts and reposts."""

    posts: list[PostOut]
    reason: str | None
    next_max_id: int | None


@dataclass
class DropPage:
    drop: DropOut
    reason: str | None
    via: str
    posts: list[PostOut] = field(default_factory=list)
    more_posts: bool = False


@dataclass
class TagView:
    tag: str
    drop: DropOut | None
    posts: list[PostOut]
    reason: str | None
    next_max_id: int | None


@dataclass
class Inbox:
    items: list[NotificationOut]
    next_max_id: int | None


@dataclass
class MyReminder:
    """One of My reminders: the drop as the viewer sees it, and the leads chosen for it."""

    drop: DropOut
    offsets: list[int]


async def timeline(ctx: Context, viewer: Viewer | None, max_id: int | None) -> Timeline:
    page = Page(limit=PAGE_SIZE, max_id=max_id)
    rows, more = page.trim(await feeds.public_timeline(ctx.session, page))
    shown = await post_presenter.present(ctx, rows, viewer)
    return Timeline(
        posts=[p for p in shown if not _cancelled_drop(p)],
        reason=ineligible_reason(ctx.settings, caller_of(viewer)),
        next_max_id=rows[-1].id if more and rows else None,
    )


def _cancelled_drop(post: PostOut) -> bool:
    """A called-off drop's announcement (or a repost of it): the home feed leaves it out,
    so it does not sit at the top; its page, tag page and the notices still show it."""
    drop = (post.reblog or post).drop
    return drop is not None and drop.status == DropStatus.CANCELLED


def _without_announcement(shown: list[PostOut], drop: DropOut | None) -> list[PostOut]:
    """The drop's own announcement is already the card at the top of its pages."""
    if drop is None:
        return shown
    return [p for p in shown if (p.reblog or p).id != drop.post_id]


async def tag_view(
    ctx: Context, viewer: Viewer | None, raw_tag: str, max_id: int | None
) -> TagView:
    page = Page(limit=PAGE_SIZE, max_id=max_id)
    found, more = await feeds.tag_page(ctx, raw_tag, page, viewer)
    return TagView(
        tag=found.tag,
        drop=found.drop,
        posts=_without_announcement(found.posts, found.drop),
        reason=ineligible_reason(ctx.settings, caller_of(viewer)),
        next_max_id=found.posts[-1].id if more and found.posts else None,
    )


async def bookmarks(ctx: Context, viewer: Viewer, max_id: int | None) -> Timeline:
    """The viewer's bookmarks, newest bookmark first (``next_max_id`` is a bookmark id)."""
    page = Page(limit=PAGE_SIZE, max_id=max_id)
    rows, more = page.trim(await feeds.bookmarks(ctx.session, viewer, page))
    shown = await post_presenter.present(ctx, [post for _, post in rows], viewer)
    return Timeline(
        posts=shown,
        reason=ineligible_reason(ctx.settings, caller_of(viewer)),
        next_max_id=rows[-1][0] if more and rows else None,
    )


async def drop_page(
    ctx: Context, viewer: Viewer | None, drop_id: int, via: str = "drop"
) -> DropPage:
    drop = await access.get_drop(ctx.session, drop_id)
    shown = await drops.present_one(ctx, drop, viewer)
    return DropPage(drop=shown, reason=ineligible_reason(ctx.settings, caller_of(viewer)), via=via)


async def drop_page_with_posts(
    ctx: Context, viewer: Viewer | None, drop_id: int, via: str = "drop", visitor: str | None = None
) -> DropPage:
    """The drop's page: the drop, and the newest posts about it (its tag's posts). With
    ``visitor`` (``counting.viewer_key``), the visit is counted in the brand's opens."""
    page = await drop_page(ctx, viewer, drop_id, via)
    if visitor is not None:
        await analytics.record_visit(ctx, drop_id, via, viewer, visitor)
    tag_page = Page(limit=10, max_id=None)
    rows, more = tag_page.trim(await feeds.tagged(ctx.session, page.drop.tag, tag_page))
    shown = await post_presenter.present(ctx, rows, viewer)
    page.posts = _without_announcement(shown, page.drop)
    page.more_posts = more
    return page


async def my_reminders(ctx: Context, viewer: Viewer) -> list[MyReminder]:
    """The viewer's reminders on drops not yet launched nor cancelled, soonest launch first."""
    rows = await reminders.upcoming_for(ctx.session, viewer.account.id, ctx.clock.now())
    shown = await drops.present(ctx, [r.drop for r in rows], viewer)
    return [MyReminder(drop=d, offsets=r.offsets) for d, r in zip(shown, rows, strict=True)]


async def inbox(ctx: Context, viewer: Viewer, max_id: int | None) -> Inbox:
    page = Page(limit=PAGE_SIZE, max_id=max_id)
    rows, more = page.trim(await notifications.list_for(ctx.session, viewer.account.id, page))
    items = await notifications.present(ctx, rows, viewer)
    return Inbox(items=items, next_max_id=rows[-1].id if more and rows else None)


async def one_notification(ctx: Context, viewer: Viewer, notification_id: int) -> NotificationOut:
    """One row of the inbox, for the live list: the notification the viewer may see (404
    otherwise), read or not as the inbox shows it."""
    row = await notifications.get_visible(ctx.session, viewer.account.id, notification_id)
    read = row.read_at is not None or await notifications.is_notice_read(
        ctx.session, viewer.account.id, row
    )
    item = notifications.InboxItem(row, read)
    return (await notifications.present(ctx, [item], viewer))[0]
