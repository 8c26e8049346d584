"""Drops: create, edit, reschedule, cancel, list (how they look to a viewer:
``drops.presenter``, whose functions are here too; who may act on one: ``drops.access``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dropbell import counting, dialect, errors, hostnames, times
from dropbell.accounts.service import Viewer
from dropbell.config import Settings
from dropbell.confusables import skeleton
from dropbell.context import Context
from dropbell.drops import images, regions
from dropbell.drops.access import access_drop, get_drop, require_partner
from dropbell.drops.models import Drop, DropStatus, ShopClick
from dropbell.drops.presenter import present as present
from dropbell.drops.presenter import present_ids as present_ids
from dropbell.drops.presenter import present_one as present_one
from dropbell.drops.presenter import present_toggled as present_toggled
from dropbell.drops.schemas import DropCreate, DropUpdate
from dropbell.notifications.announce import announce_drop
from dropbell.pagination import Page
from dropbell.posts import service as posts
from dropbell.reminders import service as reminders
from dropbell.search import index as search_index


def check_shop_url(url: str, domains: Sequence[str]) -> str:
    """Return the normalised URL if it is https on one of ``domains`` (or a subdomain)."""
    if any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in url):
        raise errors.Invalid("shop_url must be a plain https URL.")
    try:
        parts = urlsplit(url)
        port = parts.port
        host = (parts.hostname or "").rstrip(".")
        host = hostnames.to_ascii(host) if host else ""
    except (ValueError, UnicodeError):
        raise errors.Invalid("shop_url is not a valid URL.") from None
    if parts.scheme != "https":
        raise errors.Invalid("shop_url must use https.")
    if parts.username is not None or parts.password is not None:
        raise errors.Invalid("shop_url must not carry a user name or password.")
    if port not in (None, 443):
        raise errors.Invalid("shop_url must use the standard https port.")
    if not any(host == d or host.endswith("." + d) for d in domains):
        allowed = ", ".join(domains) or "none yet"
        raise errors.Invalid(f"shop_url must be on one of your shop domains ({allowed}).")
    return urlunsplit(("https", host, parts.path or "/", parts.query, parts.fragment))


def check_image_url(url: str, own_hosts: Sequence[str | None]) -> str:
    """``url`` if its host is not dropbell's own (``own_hosts``: the public URL's host, the
    request's): an image is fetched by every viewer's browser, as them, so an image on
    dropbell itself (``/drops/7/shop``) would act for each viewer. The schema has already
    made it an absolute https URL."""
    try:
        host = hostnames.to_ascii(urlsplit(url).hostname or "")
    except (ValueError, UnicodeError):
        raise errors.Invalid("image_url must be an https URL with a valid host name.") from None
    for own in own_hosts:
        try:
            mine = hostnames.to_ascii(own) if own else None
        except (ValueError, UnicodeError):
            mine = own
        if host == mine:
            raise errors.Invalid(
                "image_url must be on another host than dropbell's own: link an https image"
                " on your site or CDN."
            )
    return url


def _own_hosts(settings: Settings, request_host: str | None) -> list[str | None]:
    return [urlsplit(settings.public_url).hostname, request_host]


def _url_check(settings: Settings, request_host: str | None) -> Callable[[str], str]:
    return lambda url: check_image_url(url, _own_hosts(settings, request_host))


def check_launch_at(settings: Settings, launch_at: datetime, now: datetime) -> None:
    """422 unless ``launch_at`` is ahead, and at most ``DROPBELL_MAX_LAUNCH_AHEAD_DAYS`` so."""
    if launch_at <= now:
        raise errors.Invalid("launch_at must be in the future.")
    days = settings.max_launch_ahead_days
    if launch_at > times.shifted(now, timedelta(days=days)):
        raise errors.Invalid(f"launch_at must be at most {days} days from now.")


def _announcement_text(drop: Drop) -> str:
    lead = drop.title if not drop.description else f"{drop.title} — {drop.description}"
    suffix = f" #{drop.tag}"
    return lead[: 500 - len(suffix) - 1].rstrip() + suffix


async def _check_tag(session: AsyncSession, tag: str, drop_id: int | None = None) -> str:
    """``tag``'s skeleton, if no other drop has ``tag`` (409 ``tag_taken``) or a tag that
    looks like it (409 ``tag_confusable``: ``\u0430urellebag`` with a Cyrillic ``\u0430``)."""
    tag_skeleton = skeleton(tag)
    query = select(Drop.tag).where(or_(Drop.tag == tag, Drop.tag_skeleton == tag_skeleton))
    if drop_id is not None:
        query = query.where(Drop.id != drop_id)
    other = await session.scalar(query.limit(1))
    if other == tag:
        raise errors.TagTaken()
    if other is not None:
        raise errors.TagConfusable(
            f"tag #{tag} looks like #{other}, another drop's hashtag; choose another."
        )
    return tag_skeleton


async def _flush_unique_tag(session: AsyncSession) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise errors.TagTaken() from None


async def create_drop(
    ctx: Context, viewer: Viewer, data: DropCreate, *, request_host: str | None = None
) -> Drop:
    """Announce a drop: its post, its hashtag, its reminder jobs and its followers' notice,
    in one transaction.
    ``request_host``: the host the request came to (an image there is refused too)."""
    require_partner(viewer)
    now = ctx.clock.now()
    check_launch_at(ctx.settings, data.launch_at, now)
    shop_url = check_shop_url(data.shop_url, [d.domain for d in viewer.account.shop_domains])
    image = {"media_id": data.media_id, "image_url": data.image_url}
    await images.check_image(
        ctx.session, viewer.account.id, image, _url_check(ctx.settings, request_host)
    )
    tag_skeleton = await _check_tag(ctx.session, data.tag)
    post = await posts.add_announcement(ctx.session, viewer.account.id, now)
    drop = Drop(
        brand_id=viewer.account.id,
        title=data.title,
        description=data.description,
        price=str(data.price) if data.price is not None else None,
        currency=data.currency,
        image_url=image["image_url"],
        media_id=image["media_id"],
        image_alt=data.image_alt,
        countries=regions.stored(data.countries),
        launch_at=data.launch_at,
        tag=data.tag,
        tag_skeleton=tag_skeleton,
        shop_url=shop_url,
        post_id=post.id,
        reminder_count=0,
        schedule_version=0,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(drop)
    await _flush_unique_tag(ctx.session)
    await posts.set_announcement(ctx.session, post.id, _announcement_text(drop), [drop.tag])
    await search_index.index_drop(ctx.session, drop)
    await reminders.schedule_launch(ctx, drop, now)
    await announce_drop(ctx.session, drop, now)  # to the brand's followers, in this commit
    return drop


async def update_drop(
    ctx: Context, viewer: Viewer, drop_id: int, data: DropUpdate, *, request_host: str | None = None
) -> Drop:
    """Edit a drop; a new ``launch_at`` reschedules it (notices move, subscribers are told).
    An ``image_url`` it already has is kept as it is (the edit form sends it back); a new
    upload replaces a link and a new link an upload; ``countries`` null: sold everywhere."""
    drop = await access_drop(ctx.session, viewer, drop_id, for_update=True)
    now = ctx.clock.now()
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    for required in ("title", "launch_at", "shop_url", "tag"):
        if required in changes and changes[required] is None:
            raise errors.Invalid(f"{required} cannot be empty.")
    status = drop.status_at(now)
    if status == DropStatus.CANCELLED:
        raise errors.DropCancelled("A cancelled drop cannot be edited.")
    new_launch: datetime | None = changes.pop("launch_at", None)
    if new_launch is not None and new_launch != drop.launch_at:
        if status == DropStatus.LIVE:
            raise errors.DropLive("A drop that has launched cannot be rescheduled.")
        check_launch_at(ctx.settings, new_launch, now)
    else:
        new_launch = None
    await _check_changes(ctx, viewer, drop, changes, request_host)
    if "tag" in changes and changes["tag"] != drop.tag:
        changes["tag_skeleton"] = await _check_tag(ctx.session, changes["tag"], drop.id)
    for field, value in changes.items():
        setattr(drop, field, value)
    drop.updated_at = now
    if {"title", "description", "tag"} & changes.keys():
        await _flush_unique_tag(ctx.session)
        await posts.set_announcement(
            ctx.session, drop.post_id, _announcement_text(drop), [drop.tag]
        )
        await search_index.index_drop(ctx.session, drop)
    if new_launch is not None:
        drop.launch_at = new_launch
        drop.schedule_version += 1
        await ctx.session.flush()
        await reminders.reschedule(ctx, drop, now)
    await ctx.session.flush()
    return drop


async def _check_changes(
    ctx: Context, viewer: Viewer, drop: Drop, changes: dict[str, Any], request_host: str | None
) -> None:
    """An edit's fields checked and in the columns' form (all but the launch and tag)."""
    if "shop_url" in changes:
        changes["shop_url"] = check_shop_url(
            changes["shop_url"], [d.domain for d in viewer.account.shop_domains]
        )
    await images.check_image(
        ctx.session,
        drop.brand_id,
        changes,
        _url_check(ctx.settings, request_host),
        was_url=drop.image_url,
    )
    if changes.get("price") is not None:
        changes["price"] = str(changes["price"])
    if "image_alt" in changes and changes["image_alt"] is None:
        changes["image_alt"] = ""
    if "countries" in changes:
        changes["countries"] = regions.stored(changes["countries"])


async def cancel_drop(ctx: Context, viewer: Viewer, drop_id: int) -> Drop:
    """Call the drop off: pending notices are dropped and subscribers are told."""
    drop = await access_drop(ctx.session, viewer, drop_id, for_update=True)
    now = ctx.clock.now()
    reminders.ensure_upcoming(drop, now)
    drop.cancelled_at = now
    drop.updated_at = now
    drop.schedule_version += 1
    await ctx.session.flush()
    await reminders.cancel(ctx.session, drop, now)
    await search_index.forget_drop(ctx.session, drop.id)
    return drop


async def list_drops(
    ctx: Context, status: str, page: Page, brand_id: int | None = None
) -> list[Drop]:
    """Newest first; ``status`` is upcoming (scheduled), live, or all (cancelled too)."""
    now = ctx.clock.now()
    query = select(Drop).order_by(Drop.id.desc()).limit(page.limit + 1)
    if page.max_id is not None:
        query = query.where(Drop.id < page.max_id)
    if brand_id is not None:
        query = query.where(Drop.brand_id == brand_id)
    if status == "upcoming":
        query = query.where(Drop.cancelled_at.is_(None), Drop.launch_at > now)
    elif status == "live":
        query = query.where(Drop.cancelled_at.is_(None), Drop.launch_at <= now)
    return list(await ctx.session.scalars(query))


async def record_shop_click(
    ctx: Context, drop_id: int, source: str, viewer: Viewer | None, viewer_key: str
) -> str:
    """Where to send the shopper; the tap is counted once per viewer and hour
    (``viewer_key``, see ``dropbell.counting``): the first one's source is the one counted.
    One statement, so it commits on its own on a read-only request's session."""
    drop = await get_drop(ctx.session, drop_id)
    if drop.cancelled_at is not None:
        raise errors.DropCancelled()
    now = ctx.clock.now()
    await ctx.session.execute(
        dialect.insert(ctx.session, ShopClick)
        .values(
            drop_id=drop.id,
            account_id=viewer.account.id if viewer else None,
            source=source,
            created_at=now,
            once_key=counting.once_key(viewer_key, now),
            visitor_key=counting.visitor_key(viewer_key, drop.id),
        )
        .on_conflict_do_nothing()
    )
    return drop.shop_url
