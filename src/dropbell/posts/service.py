"""Posts: write, delete, like, repost, bookmark, share; the timeline, bookmarks and tag pages.

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

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Executable,
    String,
    delete,
    inspect,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, joinedload

from dropbell import counting, dialect, errors
from dropbell.accounts.schemas import BrandOut
from dropbell.accounts.service import Viewer
from dropbell.clock import Clock
from dropbell.config import Settings
from dropbell.drops import service as drops
from dropbell.drops.models import Drop
from dropbell.drops.schemas import DropOut
from dropbell.live import publish
from dropbell.notifications.models import Notification
from dropbell.pagination import Page
from dropbell.posts.models import Bookmark, Like, Post, PostTag, Repost, Share
from dropbell.posts.schemas import PostCreate, PostOut, ShareOut, TagPage
from dropbell.posts.tags import normalise_tag, parse_tags
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


async def create_post(
    session: AsyncSession, clock: Clock, viewer: Viewer, data: PostCreate
) -> Post:
    """Publish a post; its hashtags are parsed from the text and stored normalised."""
    post = await _add_post(session, viewer.account.id, data.text, clock.now())
    tags = parse_tags(data.text)
    session.add_all(PostTag(post_id=post.id, tag=tag) for tag in tags)
    await session.flush()
    await search_index.index_post(session, post.id, data.text)
    await search_index.count_tags(session, tags, +1)
    return post


async def delete_post(session: AsyncSession, clock: Clock, viewer: Viewer, post_id: int) -> Post:
    """Delete the caller's own post; returns it as it was.

    Deleting one's repost undoes it (as unrepost does) and returns the original.

    The post disappears from the timeline, tag pages and bookmarks (and so do
    its reposts); GET answers 404 from now on. A drop's announcement post goes
    with its drop only (409 ``drop_post``).
    """
    post = await get_post(session, post_id, for_update=True)
    if post.author_id != viewer.account.id:
        raise errors.NotAuthor()
    if post.reblog_of is not None:
        return await unrepost(session, viewer, post.reblog_of.id)
    if post.drop is not None:
        raise errors.DropPost()
    post.deleted_at = clock.now()
    await _set_tags(session, post.id, [])  # off its tag pages; the hashtags' counts follow
    await search_index.forget_post(session, post.id)
    # Its reposts leave the timeline: their own rows go, and their reposts rows with them.
    entries = select(Repost.post_id).where(Repost.reblog_of_id == post.id).scalar_subquery()
    await _delete_posts(session, Post.id.in_(entries))
    await session.execute(delete(Repost).where(Repost.reblog_of_id == post.id))
    post.repost_count = 0  # the rows behind it are gone
    await session.flush()
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
    notice: str | None  # the kind of notification a new one sends the author, if any

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
    notice: str | None

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
_LIKE = _RowMark(Like, Post.like_count, notice="like")
_BOOKMARK = _RowMark(Bookmark, Post.bookmark_count, notice=None)
_REPOST = _RepostMark(Post.repost_count, notice="repost")


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


async def _notify(
    session: AsyncSession, clock: Clock, kind: str, post: Post, viewer: Viewer
) -> int | None:
    """Tell the author (never of their own action; at most once per actor, post and kind).

    Returns the new notification's id, or None if there was nothing new to tell.
    """
    if post.author_id == viewer.account.id:
        return None
    new_id: int | None = await session.scalar(
        dialect.insert(session, Notification)
        .values(
            account_id=post.author_id,
            type=kind,
            post_id=post.id,
            actor_id=viewer.account.id,
            created_at=clock.now(),
        )
        # uq_notifications_social: like, unlike, like again notifies once.
        .on_conflict_do_nothing()
        .returning(Notification.id)
    )
    if new_id is not None:  # the author's open streams (badge, list) hear of it after commit
        publish.notification_created(session, post.author_id, new_id)
    return new_id


async def _put(
    session: AsyncSession, clock: Clock, viewer: Viewer, post_id: int, mark: _Mark
) -> Post:
    """Put the viewer's mark on the original post; if it is new, count it and tell the author."""
    post = await get_original(session, post_id)
    if await mark.put(session, clock, post.id, viewer.account.id):
        post = await _bump(session, post.id, mark.counter, +1)
        if mark.notice is not None:
            await _notify(session, clock, mark.notice, post, viewer)
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


async def toggle(
    session: AsyncSession, clock: Clock, viewer: Viewer, post_id: int, action: PostAction
) -> Post:
    """One of the six toggles, by name (each idempotent); the original post as it left it."""
    mark, on = _ACTIONS[action]
    if on:
        return await _put(session, clock, viewer, post_id, mark)
    return await _take_off(session, viewer, post_id, mark)


async def like(session: AsyncSession, clock: Clock, viewer: Viewer, post_id: int) -> Post:
    """Like a post. Idempotent. The author is told (once), unless it is their own post."""
    return await _put(session, clock, viewer, post_id, _LIKE)


async def unlike(session: AsyncSession, viewer: Viewer, post_id: int) -> Post:
    """Take a like back. Idempotent."""
    return await _take_off(session, viewer, post_id, _LIKE)


async def repost(session: AsyncSession, clock: Clock, viewer: Viewer, post_id: int) -> Post:
    """Repost to the public timeline. Idempotent. The author is told (once), unless it is theirs."""
    return await _put(session, clock, viewer, post_id, _REPOST)


async def unrepost(session: AsyncSession, viewer: Viewer, post_id: int) -> Post:
    """Undo a repost (it leaves the timeline). Idempotent."""
    return await _take_off(session, viewer, post_id, _REPOST)


async def bookmark(session: AsyncSession, clock: Clock, viewer: Viewer, post_id: int) -> Post:
    """Save a post to the caller's private bookmarks. Idempotent."""
    return await _put(session, clock, viewer, post_id, _BOOKMARK)


async def unbookmark(session: AsyncSession, viewer: Viewer, post_id: int) -> Post:
    """Remove a post from the caller's bookmarks. Idempotent."""
    return await _take_off(session, viewer, post_id, _BOOKMARK)


async def share(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    viewer: Viewer | None,
    post_id: int,
    viewer_key: str,
) -> ShareOut:
    """Hand out the post's link; the share counts once per viewer and hour (``viewer_key``,
    see ``dropbell.counting``), so calling again changes nothing until the next hour."""
    post = await get_original(session, post_id)
    now = clock.now()
    inserted = await _changed(
        session,
        dialect.insert(session, Share)
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
        await _bump(session, post.id, Post.share_count, +1)
    return ShareOut(url=post_url(settings, post.id))


# -- lists --------------------------------------------------------------------------


async def public_timeline(session: AsyncSession, page: Page) -> list[Post]:
    """Live posts and reposts, newest first (``limit + 1`` rows, see Page.trim).

    One backward scan of ``ix_posts_timeline``; ``max_id`` is a post or repost id.
    """
    query = (
        select(Post)
        .where(Post.deleted_at.is_(None))
        .order_by(Post.id.desc())
        .limit(page.limit + 1)
        .options(*DETAILS)
    )
    if page.max_id is not None:
        query = query.where(Post.id < page.max_id)
    return list(await session.scalars(query))


async def bookmarks(session: AsyncSession, viewer: Viewer, page: Page) -> list[tuple[int, Post]]:
    """The caller's bookmarks as (bookmark id, post), newest bookmark first (``limit + 1``).

    ``max_id`` is a bookmark id (the one in the ``Link`` header), not a post id.
    """
    query = (
        select(Bookmark.id, Post)
        .join(Post, Post.id == Bookmark.post_id)
        .where(Bookmark.account_id == viewer.account.id, Post.deleted_at.is_(None))
        .order_by(Bookmark.id.desc())
        .limit(page.limit + 1)
        .options(*DETAILS)
    )
    if page.max_id is not None:
        query = query.where(Bookmark.id < page.max_id)
    return [(bookmark_id, post) for bookmark_id, post in (await session.execute(query)).all()]


def tag_from_path(raw: str) -> str:
    """The normal form of a tag given in a URL (``#`` optional); 422 if it is not a hashtag."""
    try:
        return normalise_tag(raw)
    except ValueError as exc:
        raise errors.Invalid(f"tag: {exc}") from None


async def drop_for_tag(session: AsyncSession, tag: str) -> Drop | None:
    return await session.scalar(select(Drop).where(Drop.tag == tag))


async def tagged(session: AsyncSession, tag: str, page: Page) -> list[Post]:
    """Live posts carrying ``tag`` (normalised), newest first (``limit + 1`` rows).

    The page's ids come first from a backward range scan of
    ``ix_post_tags_tag_post_id`` (limited there), then the posts by key: a plan
    no planner estimate can turn into a walk over all posts. Deleting a post
    deletes its tags, so the page is never short; the ``deleted_at`` test is a
    safety net.
    """
    ids = (
        select(PostTag.post_id)
        .where(PostTag.tag == tag)
        .order_by(PostTag.post_id.desc())
        .limit(page.limit + 1)
    )
    if page.max_id is not None:
        ids = ids.where(PostTag.post_id < page.max_id)
    on_page = ids.subquery("on_page")
    query = (
        select(Post)
        .join(on_page, on_page.c.post_id == Post.id)
        .where(Post.deleted_at.is_(None))
        # By the page's column, so no planner prefers walking posts in id order instead.
        .order_by(on_page.c.post_id.desc())
        .options(*DETAILS)
    )
    return list(await session.scalars(query))


async def tag_page(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    raw_tag: str,
    page: Page,
    viewer: Viewer | None,
) -> tuple[TagPage, bool]:
    """A tag's page as the viewer sees it, and whether older posts exist (for ``Link``).

    422 if ``raw_tag`` is not a hashtag; a hashtag nobody used gives an empty page.
    """
    tag = tag_from_path(raw_tag)
    posts, more = page.trim(await tagged(session, tag, page))
    drop = await drop_for_tag(session, tag)
    shown_posts = await present(session, clock, settings, posts, viewer)
    shown_drop = None
    if drop is not None:  # as its announcement post on this page shows it, if it is there
        on_page = (p.drop for p in shown_posts if p.drop is not None and p.drop.id == drop.id)
        shown_drop = next(on_page, None) or await drops.present_one(
            session, clock, settings, drop, viewer
        )
    return TagPage(tag=tag, drop=shown_drop, posts=shown_posts), more


# -- how posts look to a viewer -----------------------------------------------------


def _ordered_tags(text: str, tags: set[str]) -> list[str]:
    """Stored tags in the order they appear in the text (any others after, sorted)."""
    in_text = [t for t in parse_tags(text) if t in tags]
    return in_text + sorted(tags - set(in_text))


@dataclass
class _Facts:
    """The small facts about a page of posts: their tags and what the viewer did to them."""

    tags: dict[int, set[str]] = field(default_factory=dict)
    liked: set[int] = field(default_factory=set)
    reposted: set[int] = field(default_factory=set)
    bookmarked: set[int] = field(default_factory=set)


async def _facts(session: AsyncSession, viewer: Viewer | None, post_ids: Sequence[int]) -> _Facts:
    """Tags, and the viewer's likes, reposts and bookmarks of ``post_ids``, in one round trip.

    A UNION ALL of index lookups: rows are (kind, post_id, tag or NULL).
    """
    facts = _Facts()
    if not post_ids:
        return facts

    def kind(name: str) -> ColumnElement[str]:
        return literal(name, String).label("kind")

    no_tag = null().cast(String).label("tag")
    parts = [
        select(kind("tag"), PostTag.post_id.label("post_id"), PostTag.tag.label("tag")).where(
            PostTag.post_id.in_(post_ids)
        )
    ]
    if viewer is not None:
        me = viewer.account.id
        parts += [
            select(kind("liked"), Like.post_id, no_tag).where(
                Like.account_id == me, Like.post_id.in_(post_ids)
            ),
            select(kind("reposted"), Repost.reblog_of_id, no_tag).where(
                Repost.reblog_of_id.in_(post_ids), Repost.account_id == me
            ),
            select(kind("bookmarked"), Bookmark.post_id, no_tag).where(
                Bookmark.account_id == me, Bookmark.post_id.in_(post_ids)
            ),
        ]
    query: CompoundSelect[str, int, str] = union_all(*parts)
    for name, post_id, tag in (await session.execute(query)).all():
        if name == "tag":
            facts.tags.setdefault(post_id, set()).add(tag)
        else:
            getattr(facts, name).add(post_id)
    return facts


async def _with_details(session: AsyncSession, posts: Sequence[Post]) -> None:
    """Make sure every post has DETAILS loaded: one query for those that lack them."""
    lacking = [p.id for p in posts if inspect(p).unloaded & {"author", "as_repost", "drop"}]
    if lacking:
        await session.scalars(
            select(Post)
            .where(Post.id.in_(lacking))
            .options(*DETAILS)
            .execution_options(populate_existing=True)
        )


async def load(session: AsyncSession, post_ids: Collection[int]) -> list[Post]:
    """The live posts among ``post_ids``, with DETAILS, in one query (any order)."""
    if not post_ids:
        return []
    query = select(Post).where(Post.id.in_(post_ids), Post.deleted_at.is_(None))
    return list(await session.scalars(query.options(*DETAILS)))


async def present(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    posts: Sequence[Post],
    viewer: Viewer | None,
) -> list[PostOut]:
    """Posts as the viewer sees them, in a fixed number of queries whatever their number.

    Posts loaded with DETAILS (every list here) bring their authors, drops and
    reposted originals; then one query for the tags and the viewer's likes,
    reposts and bookmarks, and drops.present's two if a drop is on the page.
    """
    if not posts:
        return []
    await _with_details(session, posts)
    originals: dict[int, Post] = {}
    for post in posts:
        shown = post.reblog_of or post
        originals[shown.id] = shown
    facts = await _facts(session, viewer, list(originals))
    drop_rows = [p.drop for p in originals.values() if p.drop is not None]
    drop_of: dict[int, DropOut] = {
        shown.post_id: shown
        for shown in await drops.present(session, clock, settings, drop_rows, viewer)
    }

    def author(post: Post) -> BrandOut:
        a = post.author
        return BrandOut(
            id=a.id, username=a.username, display_name=a.display_name, is_partner=a.is_partner
        )

    def render(post: Post) -> PostOut:
        return PostOut(
            id=post.id,
            author=author(post),
            text=post.text,
            tags=_ordered_tags(post.text, facts.tags.get(post.id, set())),
            created_at=post.created_at,
            drop=drop_of.get(post.id),
            like_count=post.like_count,
            repost_count=post.repost_count,
            bookmark_count=post.bookmark_count,
            share_count=post.share_count,
            liked=post.id in facts.liked,
            reposted=post.id in facts.reposted,
            bookmarked=post.id in facts.bookmarked,
            url=post_url(settings, post.id),
        )

    rendered = {post_id: render(post) for post_id, post in originals.items()}
    out = []
    for post in posts:
        if post.reblog_of is None:
            out.append(rendered[post.id])
            continue
        reblog = rendered[post.reblog_of.id]
        as_repost = {
            "id": post.id,
            "author": author(post),
            "created_at": post.created_at,
            "reblog": reblog,
        }
        out.append(reblog.model_copy(update=as_repost))
    return out


async def present_one(
    session: AsyncSession, clock: Clock, settings: Settings, post: Post, viewer: Viewer | None
) -> PostOut:
    return (await present(session, clock, settings, [post], viewer))[0]
