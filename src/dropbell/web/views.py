"""What each page shows, gathered from the domain services (page-only logic lives here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from dropbell import errors
from dropbell.accounts import service as accounts
from dropbell.accounts.schemas import AccountCreate
from dropbell.accounts.service import Viewer
from dropbell.clock import Clock
from dropbell.config import Settings
from dropbell.drops import access, analytics
from dropbell.drops import service as drops
from dropbell.drops.rollout import ineligible_reason
from dropbell.drops.schemas import DropCreate, DropOut, DropUpdate
from dropbell.i18n import _
from dropbell.notifications import service as notifications
from dropbell.notifications.schemas import NotificationOut
from dropbell.pagination import Page
from dropbell.posts import feeds
from dropbell.posts import presenter as post_presenter
from dropbell.posts import service as posts
from dropbell.posts.schemas import PostCreate, PostOut
from dropbell.reminders import service as reminders
from dropbell.web.render import lead_text

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


def why_not(settings: Settings, viewer: Viewer | None) -> str | None:
    """The short line shown instead of Remind me to shoppers outside the rollout."""
    return ineligible_reason(settings, viewer)


async def unread(session: AsyncSession, viewer: Viewer | None) -> int:
    return await notifications.unread_count(session, viewer.account.id) if viewer else 0


async def timeline(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    viewer: Viewer | None,
    max_id: int | None,
) -> Timeline:
    page = Page(limit=PAGE_SIZE, max_id=max_id)
    rows, more = page.trim(await feeds.public_timeline(session, page))
    shown = await post_presenter.present(session, clock, settings, rows, viewer)
    return Timeline(
        posts=[p for p in shown if not _cancelled_drop(p)],
        reason=why_not(settings, viewer),
        next_max_id=rows[-1].id if more and rows else None,
    )


def _cancelled_drop(post: PostOut) -> bool:
    """A called-off drop's announcement (or a repost of it): the home feed leaves it out,
    so it does not sit at the top; its page, tag page and the notices still show it."""
    drop = (post.reblog or post).drop
    return drop is not None and drop.status == "cancelled"


def _without_announcement(shown: list[PostOut], drop: DropOut | None) -> list[PostOut]:
    """The drop's own announcement is already the card at the top of its pages."""
    if drop is None:
        return shown
    return [p for p in shown if (p.reblog or p).id != drop.post_id]


async def tag_view(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    viewer: Viewer | None,
    raw_tag: str,
    max_id: int | None,
) -> TagView:
    page = Page(limit=PAGE_SIZE, max_id=max_id)
    found, more = await feeds.tag_page(session, clock, settings, raw_tag, page, viewer)
    return TagView(
        tag=found.tag,
        drop=found.drop,
        posts=_without_announcement(found.posts, found.drop),
        reason=why_not(settings, viewer),
        next_max_id=found.posts[-1].id if more and found.posts else None,
    )


async def bookmarks(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    viewer: Viewer,
    max_id: int | None,
) -> Timeline:
    """The viewer's bookmarks, newest bookmark first (``next_max_id`` is a bookmark id)."""
    page = Page(limit=PAGE_SIZE, max_id=max_id)
    rows, more = page.trim(await feeds.bookmarks(session, viewer, page))
    shown = await post_presenter.present(
        session, clock, settings, [post for _, post in rows], viewer
    )
    return Timeline(
        posts=shown,
        reason=why_not(settings, viewer),
        next_max_id=rows[-1][0] if more and rows else None,
    )


async def post_view(
    session: AsyncSession, clock: Clock, settings: Settings, viewer: Viewer | None, post_id: int
) -> PostOut:
    post = await posts.get_post(session, post_id)
    return await post_presenter.present_one(session, clock, settings, post, viewer)


async def create_post(session: AsyncSession, clock: Clock, viewer: Viewer, data: PostCreate) -> int:
    return (await posts.create_post(session, clock, viewer, data)).id


async def post_action(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    viewer: Viewer,
    post_id: int,
    action: posts.PostAction,
) -> PostOut:
    """A toggle on a post (a repost's id acts on the original); the original as now seen."""
    post = await posts.toggle(session, clock, viewer, post_id, action)
    return await post_presenter.present_one(session, clock, settings, post, viewer)


async def share_post(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    viewer: Viewer | None,
    post_id: int,
    viewer_key: str,
) -> PostOut:
    """Count a share (once per viewer and hour); the original post as now seen (its ``url``
    is what was shared)."""
    await posts.share(session, clock, settings, viewer, post_id, viewer_key)
    original = await posts.get_original(session, post_id)  # its counters as _bump left them
    return await post_presenter.present_one(session, clock, settings, original, viewer)


async def drop_page(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    viewer: Viewer | None,
    drop_id: int,
    via: str = "drop",
) -> DropPage:
    drop = await access.get_drop(session, drop_id)
    shown = await drops.present_one(session, clock, settings, drop, viewer)
    return DropPage(drop=shown, reason=why_not(settings, viewer), via=via)


async def drop_page_with_posts(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    viewer: Viewer | None,
    drop_id: int,
    via: str = "drop",
    visitor: str | None = None,
) -> DropPage:
    """The drop's page: the drop, and the newest posts about it (its tag's posts). With
    ``visitor`` (``counting.viewer_key``), the visit is counted in the brand's opens."""
    page = await drop_page(session, clock, settings, viewer, drop_id, via)
    if visitor is not None:
        await analytics.record_visit(session, clock, drop_id, via, viewer, visitor)
    tag_page = Page(limit=10, max_id=None)
    rows, more = tag_page.trim(await feeds.tagged(session, page.drop.tag, tag_page))
    shown = await post_presenter.present(session, clock, settings, rows, viewer)
    page.posts = _without_announcement(shown, page.drop)
    page.more_posts = more
    return page


async def set_reminder(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    viewer: Viewer,
    drop_id: int,
    on: bool,
    offsets: list[int] | None = None,
) -> DropOut:
    """Remind me (``on``, with these leads; None: the default) or take it back; the drop as
    the viewer now sees it. The same statements as the API's, inside the page's
    transaction."""
    conn, caller = await session.connection(), viewer.caller
    if on:
        toggled = await reminders.remind(conn, clock, settings, caller, drop_id, offsets)
    else:
        toggled = await reminders.unremind(conn, clock, caller, drop_id)
    return drops.present_toggled(clock, settings, caller, toggled)


MAX_LEADS = 10  # as many as the API's RemindBody takes


def chosen_leads(
    settings: Settings, picker: str | None, offsets: list[str] | None
) -> list[int] | None:
    """The leads a Remind me form chose: None (the default lead) from a plain toggle, else
    the ticked ones (none ticked: the launch notice only). A lead off the operator's menu is
    a 422 that says what may be chosen; nothing changes."""
    if picker is None and not offsets:
        return None
    if len(offsets or []) > MAX_LEADS:
        raise errors.InvalidOffset(_("Choose at most %(num)d reminder times.") % {"num": MAX_LEADS})
    allowed = settings.allowed_offsets
    chosen: list[int] = []
    for raw in offsets or []:
        lead = int(raw) if raw.strip().isdigit() else None
        if lead not in allowed:
            menu = sorted(allowed, reverse=True)
            names = [lead_text(o) for o in menu]
            listed = names[0]
            if len(names) > 1:
                listed = _("%(some)s or %(last)s") % {
                    "some": ", ".join(names[:-1]),
                    "last": names[-1],
                }
            raise errors.InvalidOffset(
                _("That is not a reminder time you can choose: pick %(leads)s before the launch.")
                % {"leads": listed}
            )
        chosen.append(lead)
    return chosen


@dataclass
class MyReminder:
    """One of My reminders: the drop as the viewer sees it, and the leads chosen for it."""

    drop: DropOut
    offsets: list[int]


async def my_reminders(
    session: AsyncSession, clock: Clock, settings: Settings, viewer: Viewer
) -> list[MyReminder]:
    """The viewer's reminders on drops not yet launched nor cancelled, soonest launch first."""
    rows = await reminders.upcoming_for(session, viewer.account.id, clock.now())
    shown = await drops.present(session, clock, settings, [r.drop for r in rows], viewer)
    return [MyReminder(drop=d, offsets=r.offsets) for d, r in zip(shown, rows, strict=True)]


async def inbox(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    viewer: Viewer,
    max_id: int | None,
) -> Inbox:
    page = Page(limit=PAGE_SIZE, max_id=max_id)
    rows, more = page.trim(await notifications.list_for(session, viewer.account.id, page))
    items = await notifications.present(session, clock, settings, rows, viewer)
    return Inbox(items=items, next_max_id=rows[-1].id if more and rows else None)


async def one_notification(
    session: AsyncSession, clock: Clock, settings: Settings, viewer: Viewer, notification_id: int
) -> NotificationOut:
    row = await notifications.get_visible(session, viewer.account.id, notification_id)
    read = row.read_at is not None or await notifications.is_notice_read(
        session, viewer.account.id, row
    )
    item = notifications.InboxItem(row, read)
    return (await notifications.present(session, clock, settings, [item], viewer))[0]


async def open_notification(
    session: AsyncSession, clock: Clock, viewer: Viewer, notification_id: int
) -> str:
    """Mark it read (counted as opened in the brand's funnel); the page it is about."""
    notification = (await notifications.mark_read(session, clock, viewer, notification_id)).row
    if notification.drop_id is not None:
        return f"/drops/{notification.drop_id}?via=notification"
    if notification.post_id is not None:
        return f"/posts/{notification.post_id}"
    return "/notifications"


# The brand console's gate is the API's own check: a removed partner is refused in both.
require_partner = access.require_partner


async def owned_drop(
    session: AsyncSession, clock: Clock, settings: Settings, viewer: Viewer, drop_id: int
) -> DropOut:
    drop = await access.access_drop(session, viewer, drop_id)
    return await drops.present_one(session, clock, settings, drop, viewer)


async def create_drop(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    viewer: Viewer,
    data: DropCreate,
    *,
    request_host: str | None = None,
) -> int:
    """Announce a drop. On an error nothing of it stays (the form is shown again)."""
    async with session.begin_nested():
        drop = await drops.create_drop(
            session, clock, settings, viewer, data, request_host=request_host
        )
        return drop.id


async def update_drop(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    viewer: Viewer,
    drop_id: int,
    data: DropUpdate,
    *,
    request_host: str | None = None,
) -> int:
    """Edit or reschedule. On an error nothing changes (the form is shown again)."""
    async with session.begin_nested():
        drop = await drops.update_drop(
            session, clock, settings, viewer, drop_id, data, request_host=request_host
        )
        return drop.id


async def cancel_drop(session: AsyncSession, clock: Clock, viewer: Viewer, drop_id: int) -> int:
    return (await drops.cancel_drop(session, clock, viewer, drop_id)).id


async def sign_up(session: AsyncSession, clock: Clock, data: AccountCreate, platform: str) -> str:
    """Create the account and log it in: the new session's token."""
    async with session.begin_nested():
        account = await accounts.create_account(session, clock, data)
        token, _ = await accounts.issue_token(
            session, clock, account.username, data.password, platform
        )
    return token


async def set_language(session: AsyncSession, viewer: Viewer, language: str) -> None:
    """The switcher's choice, for a logged-in shopper: the account's language."""
    await accounts.set_language(session, viewer, language)


async def read_all(session: AsyncSession, clock: Clock, viewer: Viewer) -> int:
    return await notifications.mark_all_read(session, clock, viewer)
