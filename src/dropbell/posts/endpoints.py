from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from dropbell import counting
from dropbell.accounts.deps import OPTIONAL_AUTH, Ctx, CurrentViewer, OptionalViewer
from dropbell.pagination import PageParams, set_next_link
from dropbell.posts import feeds, presenter, service
from dropbell.posts.schemas import PostCreate, PostOut, ShareOut, TagPage
from dropbell.posts.service import PostAction
from dropbell.ratelimit import limit

router = APIRouter(prefix="/api/v1", tags=["posts"])
POST_LIMIT = Depends(limit("post", by="account"))

PostId = Annotated[
    int,
    Path(
        ge=1,
        le=2**63 - 1,  # past 64 bits is bad input (422), not a database error
        description="A post id (a repost's id acts on the original post).",
    ),
]


@router.post("/posts", status_code=201, response_model=PostOut, dependencies=[POST_LIMIT])
async def create_post(body: PostCreate, viewer: CurrentViewer, ctx: Ctx) -> PostOut:
    """Publish a post of 1 to 500 characters. `#hashtags` in the text become its tags.
    Rate limited per account (429 `rate_limited` with `Retry-After`)."""
    post = await service.create_post(ctx, viewer, body)
    return await presenter.present_one(ctx, post, viewer)


@router.get("/posts/{post_id}", response_model=PostOut, openapi_extra=OPTIONAL_AUTH)
async def get_post(post_id: PostId, viewer: OptionalViewer, ctx: Ctx) -> PostOut:
    """A post (404 once deleted). A drop's announcement post has `drop` set."""
    post = await service.get_post(ctx.session, post_id)
    return await presenter.present_one(ctx, post, viewer)


@router.delete("/posts/{post_id}", response_model=PostOut)
async def delete_post(post_id: PostId, viewer: CurrentViewer, ctx: Ctx) -> PostOut:
    """Delete your own post; returns it as it was. 403 `not_author` for someone else's post,
    409 `drop_post` for a drop's announcement (it goes with the drop). Deleting your
    repost undoes it and returns the original post."""
    post = await service.delete_post(ctx, viewer, post_id)
    return await presenter.present_one(ctx, post, viewer)


def _toggle_route(action: PostAction, doc: str) -> None:
    """Add ``POST /posts/{post_id}/<action>``: the toggle, answered with the post as now seen.
    ``action`` is the route's name (so its summary and operationId), ``doc`` its description."""

    async def toggle(post_id: PostId, me: CurrentViewer, ctx: Ctx) -> PostOut:
        post = await service.toggle(ctx, me, post_id, action)
        return await presenter.present_one(ctx, post, me)

    toggle.__doc__ = doc
    router.post(f"/posts/{{post_id}}/{action}", response_model=PostOut, name=action)(toggle)


_toggle_route(
    "like", "Like. Idempotent. The author gets a `like` notification (once, never for their own)."
)
_toggle_route("unlike", "Take a like back. Idempotent.")
_toggle_route(
    "repost",
    """Repost to the public timeline. Idempotent. The author gets a `repost` notification
    (once, never for their own). Returns the original post.""",
)
_toggle_route("unrepost", "Undo a repost. Idempotent.")
_toggle_route("bookmark", "Save to your bookmarks (private to you). Idempotent.")
_toggle_route("unbookmark", "Remove from your bookmarks. Idempotent.")


@router.post("/posts/{post_id}/share", response_model=ShareOut, openapi_extra=OPTIONAL_AUTH)
async def share(request: Request, post_id: PostId, viewer: OptionalViewer, ctx: Ctx) -> ShareOut:
    """The post's link, to share anywhere (a token is optional). Counted once per viewer
    (the account, else the client address) and hour."""
    who = counting.viewer_key(request, viewer)
    return await service.share(ctx, viewer, post_id, who)


@router.get("/bookmarks", response_model=list[PostOut])
async def bookmarks(
    request: Request, response: Response, viewer: CurrentViewer, ctx: Ctx, page: PageParams
) -> list[PostOut]:
    """Your bookmarks, newest bookmark first. Page with the `Link` header: its `max_id` is a
    bookmark position, not a post id."""
    rows, more = page.trim(await feeds.bookmarks(ctx.session, viewer, page))
    set_next_link(request, response, rows[-1][0] if rows else None, more)
    return await presenter.present(ctx, [post for _, post in rows], viewer)


@router.get("/timelines/public", response_model=list[PostOut], openapi_extra=OPTIONAL_AUTH)
async def public_timeline(
    request: Request, response: Response, viewer: OptionalViewer, ctx: Ctx, page: PageParams
) -> list[PostOut]:
    """Everyone's posts and reposts, newest first. A repost is the reposter's entry: its own
    `id`, `author` and `created_at`, with the original post in `reblog`. `max_id` is the `id`
    of the last entry seen."""
    posts, more = page.trim(await feeds.public_timeline(ctx.session, page))
    set_next_link(request, response, posts[-1].id if posts else None, more)
    return await presenter.present(ctx, posts, viewer)


@router.get("/tags/{tag}", response_model=TagPage, openapi_extra=OPTIONAL_AUTH)
async def tag_page(
    tag: str,
    request: Request,
    response: Response,
    viewer: OptionalViewer,
    ctx: Ctx,
    page: PageParams,
) -> TagPage:
    """A hashtag's page: the drop that owns the tag (with your Remind me state) or null, and
    the posts carrying the tag, newest first, paged by `max_id` (a post id) and `Link`.
    Tags match case-insensitively (`#Sneaker` = `sneaker`); 422 for something not a hashtag."""
    shown, more = await feeds.tag_page(ctx, tag, page, viewer)
    set_next_link(request, response, shown.posts[-1].id if shown.posts else None, more)
    return shown
