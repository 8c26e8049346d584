"""Posts: write, delete, like, repost, bookmark, share (how they look to a viewer is
``posts.presenter``; the timeline, bookmarks and tag pages are ``posts.timeline``).

Services flush; the request owns the transaction.

Counters equal the rows behind them, also under concurrent toggles: every
toggle is one ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` or ``DELETE ...
RETURNING``, and the counter moves (by one, in SQL, in the same transaction)
only when that statement really changed a row. The counter ``UPDATE`` also
re-checks that the post is not deleted, so a toggle racing a delete rolls
back whole instead of leaving a row behind a deleted post.

Acting on a repost's id (like, bookmark, repost, share...) acts on the
original post, as in Mastodon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, Executable, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, joinedload

from dropbell import counting, dialect, errors
from dropbell.accounts.service import Viewer
from dropbell.clock import Clock
from dropbell.config import Settings
from dropbell.context import Context
from dropbell.live import publish
from dropbell.notifications.models import Notification, NotificationType
from dropbell.posts.models import Bookmark, Like, Post, PostTag, Repost, Share
from dropbell.posts.schemas import PostCreate, ShareOut
from dropbell.posts.tags import parse_tags
from dropbell.search import index as search_index

# Load these with every list of posts: authors, drops and reposted originals come in the
# same query (flat LEFT JOINs by key), so rendering a page adds no query per post.
_original = joinedload(Post.as_repost).joinedload(Repost.original)
DETAILS = (
    joinedload(Post.author),
    joinedload(Post.drop),
    _original.joinedload(Post.author),
    _original.joinedload(Post.drop),
)

# -- reading one post --------------------------------------------------------------


async def get_post(session: AsyncSession, post_id: int, *, for_update: bool = False) -> Post:
    """The post (or repost) with this id, with DETAILS; 404 if there is none or it was deleted."""
    query = select(Post).where(Post.id == post_id, Post.deleted_at.is_(None)).options(*DETAILS)
    if for_update:
        query = query.with_for_update(of=Post)
    post = await session.scalar(query)
    if post is None:
        raise errors.NotFound("No such post.")
    return post


async def get_original(session: AsyncSession, post_id: int) -> Post:
    """The post with this id, or the post it reposts: what an action on ``post_id`` acts on."""
    post = await get_post(session, post_id)
    original = post.reblog_of
    if original is None:
        return post
    if original.deleted_at is not None:  # never left behind (deleting a post ends its reposts)
        raise errors.NotFound("No such post.")
    return original


def post_url(settings: Settings, post_id: int) -> str:
    return f"{settings.public_url.rstrip('/')}/posts/{post_id}"


# -- writing and deleting ---------------------------------------------------------


async def _add_post(session: AsyncSession, author_id: int, text: str, now: datetime) -> Post:
    """A new row in ``posts`` with its counters at zero, flushed (so it has its id)."""
    post = Post(
        author_id=author_id,
        text=text,
        created_at=now,
        like_count=0,
        repost_count=0,
        bookmark_count=0,
        share_count=0,
    )
    session.add(post)
    await session.flush()
    return post


async def _delete_posts(session: AsyncSession, which: ColumnElement[bool]) -> None:
    """Delete the ``posts`` rows ``which`` picks, in SQL only (reposts' own rows)."""
    await session.execute(delete(Post).where(which).execution_options(synchronize_session=False))


async def _set_tags(session: AsyncSession, post_id: int, tags: Sequence[str]) -> None:
    """The post carries ``tags`` now, no others (and the hashtags' counts follow)."""
    deleted = delete(PostTag).where(PostTag.post_id == post_id).returning(PostTag.tag)
    old = set(await session.scalars(deleted))
    new = dict.fromkeys(tags)
    session.add_all(PostTag(post_id=post_id, tag=tag) for tag in new)
    await search_index.count_tags(session, old - new.keys(), -1)
    await search_index.count_tags(session, new.keys() - old, +1)


async def create_post(ctx: Context, viewer: Viewer, data: PostCreate) -> Post:
    """Publish a post; its hashtags are parsed from the text and stored normalised."""
    post = await _add_post(ctx.session, viewer.account.id, data.text, ctx.clock.now())
    tags = parse_tags(data.text)
    ctx.session.add_all(PostTag(post_id=post.id, tag=tag) for tag in tags)
    await ctx.session.flush()
    await search_index.index_post(ctx.session, post.id, data.text)
    await search_index.count_tags(ctx.session, tags, +1)
    return post


async def add_announcement(session: AsyncSession, brand_id: int, now: datetime) -> Post:
    """A drop's announcement post, still empty (the drop needs its id; ``set_announcement``
    gives it its text and tag once the drop is written)."""
    return await _add_post(session, brand_id, "", now)


async def set_announcement(
    session: AsyncSession, post_id: int, text: str, tags: Sequence[str]
) -> None:
    """A drop's announcement post says ``text`` and carries ``tags`` now."""
    post = await session.get_one(Post, post_id)
    post.text = text
    await _set_tags(session, post_id, tags)


async def delete_post(ctx: Context, viewer: Viewer, post_id: int) -> Post:
    """Delete the caller's own post; returns it as it was.

    Deleting one's repost undoes it (as unrepost does) and returns the original.

    The post disappears from the timeline, tag pages and bookmarks (and so do
    its reposts); GET answers 404 from now on. A drop's announcement post goes
    with its drop only (409 ``drop_post``).
    """
    post = await get_post(ctx.session, post_id, for_update=True)
    if post.author_id != viewer.account.id:
        raise errors.NotAuthor()
    if post.reblog_of is not None:
        return await _take_off(ctx.session, viewer, post.reblog_of.id, _REPOST)
    if post.drop is not None:
        raise errors.DropPost()
    post.deleted_at = ctx.clock.now()
    await _set_tags(ctx.session, post.id, [])  # off its tag pages; the hashtags' counts follow
    await search_index.forget_post(ctx.session, post.id)
    # Its reposts leave the timeline: their own rows go, and their reposts rows with them.
    entries = select(Repost.post_id).where(Repost.reblog_of_id == post.id).scalar_subquery()
    await _delete_posts(ctx.session, Post.id.in_(entries))
    await ctx.session.execute(delete(Repost).where(Repost.reblog_of_id == post.id))
    post.repost_count = 0  # the rows behind it are gone
    await ctx.session.flush()
    return post


# -- toggles ------------------------------------------------------------------------


async def _changed(session: AsyncSession, statement: Executable) -> bool:
    """Run an INSERT/DELETE ... RETURNING; True if it touched a row."""
    return (await session.execute(statement)).first() is not None


@dataclass(frozen=True)
class _RowMark:
    """What a toggle puts on a post and takes off it: a like or a bookmark, one row per
    post and account, behind one of the post's counters."""

    table: type[Like] | type[Bookmark]
    counter: InstrumentedAttribute[int]
    notice: NotificationType | None  # the kind of notification a new one sends the author, if any

    async def put(self, session: AsyncSession, clock: Clock, post_id: int, me: int) -> bool:
        """Add the row unless it is there already; True if this call added it."""
        return await _changed(
            session,
            dialect.insert(session, self.table)
            .values(post_id=post_id, account_id=me, created_at=clock.now())
            .on_conflict_do_nothing()
            .returning(self.table.post_id),
        )

    async def take_off(self, session: AsyncSession, post_id: int, me: int) -> bool:
        """Delete the row if it is there; True if this call deleted it."""
        return await _changed(
            session,
            delete(self.table)
            .where(self.table.post_id == post_id, self.table.account_id == me)
            .returning(self.table.post_id),
        )


@dataclass(frozen=True)
class _RepostMark:
    """A repost: its own row in ``posts`` (its place in the timeline), linked by a
    ``reposts`` row whose unique (reblog_of_id, account_id) decides, under any race,
    whether this call made a new repost."""

    counter: InstrumentedAttribute[int]
    notice: NotificationType | None

    async def put(self, session: AsyncSession, clock: Clock, post_id: int, me: int) -> bool:
        already = select(Repost.post_id).where(
            Repost.reblog_of_id == post_id, Repost.account_id == me
        )
        if await session.scalar(already) is not None:
            return False
        now = clock.now()
        entry = await _add_post(session, me, "", now)
        inserted = await _changed(
            session,
            dialect.insert(session, Repost)
            .values(post_id=entry.id, reblog_of_id=post_id, account_id=me, created_at=now)
            .on_conflict_do_nothing()
            .returning(Repost.post_id),
        )
        if not inserted:  # the same account reposted it at the same moment, from elsewhere
            await _delete_posts(session, Post.id == entry.id)
            session.expunge(entry)
        return inserted

    async def take_off(self, session: AsyncSession, post_id: int, me: int) -> bool:
        """Delete the ``reposts`` row and the repost's own post row (off the timeline)."""
        entry_id = await session.scalar(
            delete(Repost)
            .where(Repost.reblog_of_id == post_id, Repost.account_id == me)
            .returning(Repost.post_id)
        )
        if entry_id is None:
            return False
        await _delete_posts(session, Post.id == entry_id)
        return True


_Mark = _RowMark | _RepostMark
_LIKE = _RowMark(Like, Post.like_count, notice=NotificationType.LIKE)
_BOOKMARK = _RowMark(Bookmark, Post.bookmark_count, notice=None)
_REPOST = _RepostMark(Post.repost_count, notice=NotificationType.REPOST)


async def _bump(
    session: AsyncSession, post_id: int, counter: InstrumentedAttribute[int], delta: int
) -> Post:
    """Move a counter of a live post, in SQL; 404 (so a rollback) if it was deleted meanwhile."""
    post = await session.scalar(
        update(Post)
        .where(Post.id == post_id, Post.deleted_at.is_(None))
        .values({counter: counter + delta})
        .returning(Post)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    if post is None:
        raise errors.NotFound("No such post.")
    return post


async def _notify(ctx: Context, kind: str, post: Post, viewer: Viewer) -> int | None:
    """Tell the author (never of their own action; at most once per actor, post and kind).

    Returns the new notification's id, or None if there was nothing new to tell.
    """
    if post.author_id == viewer.account.id:
        return None
    new_id: int | None = await ctx.session.scalar(
        dialect.insert(ctx.session, Notification)
        .values(
            account_id=post.author_id,
            type=kind,
            post_id=post.id,
            actor_id=viewer.account.id,
            created_at=ctx.clock.now(),
        )
        # uq_notifications_social: like, unlike, like again notifies once.
        .on_conflict_do_nothing()
        .returning(Notification.id)
    )
    if new_id is not None:  # the author's open streams (badge, list) hear of it after commit
        publish.notification_created(ctx.session, post.author_id, new_id)
    return new_id


async def _put(ctx: Context, viewer: Viewer, post_id: int, mark: _Mark) -> Post:
    """Put the viewer's mark on the original post; if it is new, count it and tell the author."""
    post = await get_original(ctx.session, post_id)
    if await mark.put(ctx.session, ctx.clock, post.id, viewer.account.id):
        post = await _bump(ctx.session, post.id, mark.counter, +1)
        if mark.notice is not None:
            await _notify(ctx, mark.notice, post, viewer)
    return post


async def _take_off(session: AsyncSession, viewer: Viewer, post_id: int, mark: _Mark) -> Post:
    """Take the viewer's mark off the original post; if it was there, count it out."""
    post = await get_original(session, post_id)
    if await mark.take_off(session, post.id, viewer.account.id):
        post = await _bump(session, post.id, mark.counter, -1)
    return post


PostAction = Literal["like", "unlike", "repost", "unrepost", "bookmark", "unbookmark"]
_ACTIONS: dict[PostAction, tuple[_Mark, bool]] = {
    "like": (_LIKE, True),
    "unlike": (_LIKE, False),
    "repost": (_REPOST, True),
    "unrepost": (_REPOST, False),
    "bookmark": (_BOOKMARK, True),
    "unbookmark": (_BOOKMARK, False),
}


async def toggle(ctx: Context, viewer: Viewer, post_id: int, action: PostAction) -> Post:
    """One of the six toggles, by name (each idempotent); the original post as it left it."""
    mark, on = _ACTIONS[action]
    if on:
        return await _put(ctx, viewer, post_id, mark)
    return await _take_off(ctx.session, viewer, post_id, mark)


async def share(ctx: Context, viewer: Viewer | None, post_id: int, viewer_key: str) -> ShareOut:
    """Hand out the post's link; the share counts once per viewer and hour (``viewer_key``,
    see ``dropbell.counting``), so calling again changes nothing until the next hour."""
    post = await get_original(ctx.session, post_id)
    now = ctx.clock.now()
    inserted = await _changed(
        ctx.session,
        dialect.insert(ctx.session, Share)
        .values(
            post_id=post.id,
            account_id=viewer.account.id if viewer else None,
            created_at=now,
            once_key=counting.once_key(viewer_key, now),
        )
        .on_conflict_do_nothing()
        .returning(Share.id),
    )
    if inserted:
        await _bump(ctx.session, post.id, Post.share_count, +1)
    return ShareOut(url=post_url(ctx.settings, post.id))
