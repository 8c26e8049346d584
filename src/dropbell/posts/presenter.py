"""How posts look to a viewer (presenters apart from services): their authors, tags and
drops, and what the viewer did to them, in a fixed number of queries whatever the number
of posts."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    String,
    inspect,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from dropbell.accounts.schemas import BrandOut
from dropbell.accounts.service import Viewer
from dropbell.config import Settings
from dropbell.context import Context
from dropbell.drops import presenter as drops
from dropbell.drops.schemas import DropOut
from dropbell.posts.models import Bookmark, Like, Post, PostTag, Repost
from dropbell.posts.schemas import PostOut
from dropbell.posts.service import DETAILS, post_url
from dropbell.posts.tags import parse_tags


async def load(session: AsyncSession, post_ids: Collection[int]) -> list[Post]:
    """The live posts among ``post_ids``, with DETAILS, in one query (any order)."""
    if not post_ids:
        return []
    query = select(Post).where(Post.id.in_(post_ids), Post.deleted_at.is_(None))
    return list(await session.scalars(query.options(*DETAILS)))


async def present(ctx: Context, posts: Sequence[Post], viewer: Viewer | None) -> list[PostOut]:
    """Posts as the viewer sees them, in a fixed number of queries whatever their number.

    Posts loaded with DETAILS (every list here) bring their authors, drops and
    reposted originals; then one query for the tags and the viewer's likes,
    reposts and bookmarks, and drops.present's two if a drop is on the page.
    A repost is its original as shown, under the reposter's id, author and time.
    """
    if not posts:
        return []
    await _with_details(ctx.session, posts)
    originals: dict[int, Post] = {}
    for post in posts:
        shown = post.reblog_of or post
        originals[shown.id] = shown
    facts = await _facts(ctx.session, viewer, list(originals))
    drop_rows = [p.drop for p in originals.values() if p.drop is not None]
    drop_of: dict[int, DropOut] = {
        shown.post_id: shown for shown in await drops.present(ctx, drop_rows, viewer)
    }
    rendered = {
        post_id: _post_out(ctx.settings, post, facts, drop_of.get(post_id))
        for post_id, post in originals.items()
    }
    out = []
    for post in posts:
        if post.reblog_of is None:
            out.append(rendered[post.id])
            continue
        reblog = rendered[post.reblog_of.id]
        as_repost = {
            "id": post.id,
            "author": BrandOut.of(post.author),
            "created_at": post.created_at,
            "reblog": reblog,
        }
        out.append(reblog.model_copy(update=as_repost))
    return out


async def present_one(ctx: Context, post: Post, viewer: Viewer | None) -> PostOut:
    return (await present(ctx, [post], viewer))[0]


@dataclass
class _Facts:
    """The small facts about a page of posts: their tags and what the viewer did to them."""

    tags: dict[int, set[str]] = field(default_factory=dict)
    liked: set[int] = field(default_factory=set)
    reposted: set[int] = field(default_factory=set)
    bookmarked: set[int] = field(default_factory=set)


def _post_out(settings: Settings, post: Post, facts: _Facts, drop: DropOut | None) -> PostOut:
    """An original post (not a repost's row) as shown, with the page's facts about it."""
    return PostOut(
        id=post.id,
        author=BrandOut.of(post.author),
        text=post.text,
        tags=_ordered_tags(post.text, facts.tags.get(post.id, set())),
        created_at=post.created_at,
        drop=drop,
        like_count=post.like_count,
        repost_count=post.repost_count,
        bookmark_count=post.bookmark_count,
        share_count=post.share_count,
        liked=post.id in facts.liked,
        reposted=post.id in facts.reposted,
        bookmarked=post.id in facts.bookmarked,
        url=post_url(settings, post.id),
    )


def _ordered_tags(text: str, tags: set[str]) -> list[str]:
    """Stored tags in the order they appear in the text (any others after, sorted)."""
    in_text = [t for t in parse_tags(text) if t in tags]
    return in_text + sorted(tags - set(in_text))


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
