"""Lists of posts: the public timeline, a viewer's bookmarks and a hashtag's page
(keyset pages of ``limit + 1`` rows, see ``Page.trim``; posts loaded with DETAILS)."""

from __future__ import annotations

from typing import TypeVarTuple

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from dropbell import errors
from dropbell.accounts.service import Viewer
from dropbell.context import Context
from dropbell.drops import presenter as drops
from dropbell.drops.models import Drop
from dropbell.pagination import Page
from dropbell.posts.models import Bookmark, Post, PostTag
from dropbell.posts.presenter import present
from dropbell.posts.schemas import TagPage
from dropbell.posts.service import DETAILS
from dropbell.posts.tags import normalise_tag

Row = TypeVarTuple("Row")


def _newest_first(query: Select[*Row], key: InstrumentedAttribute[int], page: Page) -> Select[*Row]:
    """``query``'s page: ``limit + 1`` rows (see ``Page.trim``), by ``key`` descending, below
    ``max_id``."""
    query = query.order_by(key.desc()).limit(page.limit + 1)
    return query if page.max_id is None else query.where(key < page.max_id)


async def public_timeline(session: AsyncSession, page: Page) -> list[Post]:
    """Live posts and reposts, newest first (``limit + 1`` rows, see Page.trim).

    One backward scan of ``ix_posts_timeline``; ``max_id`` is a post or repost id.
    """
    query = select(Post).where(Post.deleted_at.is_(None)).options(*DETAILS)
    return list(await session.scalars(_newest_first(query, Post.id, page)))


async def bookmarks(session: AsyncSession, viewer: Viewer, page: Page) -> list[tuple[int, Post]]:
    """The caller's bookmarks as (bookmark id, post), newest bookmark first (``limit + 1``).

    ``max_id`` is a bookmark id (the one in the ``Link`` header), not a post id.
    """
    query = (
        select(Bookmark.id, Post)
        .join(Post, Post.id == Bookmark.post_id)
        .where(Bookmark.account_id == viewer.account.id, Post.deleted_at.is_(None))
        .options(*DETAILS)
    )
    rows = await session.execute(_newest_first(query, Bookmark.id, page))
    return [(bookmark_id, post) for bookmark_id, post in rows.all()]


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
    ids = select(PostTag.post_id).where(PostTag.tag == tag)
    on_page = _newest_first(ids, PostTag.post_id, page).subquery("on_page")
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
    ctx: Context, raw_tag: str, page: Page, viewer: Viewer | None
) -> tuple[TagPage, bool]:
    """A tag's page as the viewer sees it, and whether older posts exist (for ``Link``).

    422 if ``raw_tag`` is not a hashtag; a hashtag nobody used gives an empty page.
    """
    tag = tag_from_path(raw_tag)
    posts, more = page.trim(await tagged(ctx.session, tag, page))
    drop = await drop_for_tag(ctx.session, tag)
    shown_posts = await present(ctx, posts, viewer)
    shown_drop = None
    if drop is not None:  # as its announcement post on this page shows it, if it is there
        on_page = (p.drop for p in shown_posts if p.drop is not None and p.drop.id == drop.id)
        shown_drop = next(on_page, None) or await drops.present_one(ctx, drop, viewer)
    return TagPage(tag=tag, drop=shown_drop, posts=shown_posts), more
