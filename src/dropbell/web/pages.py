"""What shoppers see: the timeline, posts, a drop's page, Remind me, notifications, tag pages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dropbell import errors, ratelimit
from dropbell.accounts.deps import Session, WebViewer
from dropbell.accounts.service import Viewer
from dropbell.config import Settings
from dropbell.deps import AppClock, AppSettings
from dropbell.posts.schemas import PostCreate, PostOut
from dropbell.web import views
from dropbell.web.forms import Form as FormState
from dropbell.web.forms import validate
from dropbell.web.render import render
from dropbell.web.routing import LoginRequired, PageRoute, wants_fragment
from dropbell.web.session import CsrfChecked

router = APIRouter(include_in_schema=False, route_class=PageRoute)

Variant = Literal["card", "page"]
Source = Literal["post", "tag", "drop", "notification"]
PostAction = Literal["like", "unlike", "repost", "unrepost", "bookmark", "unbookmark"]
MAX_ID = 2**63 - 1


def need(viewer: Viewer | None) -> Viewer:
    if viewer is None:
        raise LoginRequired()
    return viewer


def safe_next(value: str | None, default: str = "/") -> str:
    """Only a local path: never an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


@router.get("/", response_class=HTMLResponse)
async def home(
    request: Request,
    viewer: WebViewer,
    session: Session,
    clock: AppClock,
    settings: AppSettings,
    max_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    page = await views.timeline(session, clock, settings, viewer, max_id)
    return render(
        request,
        "home.html",
        {"page": page, "form": FormState(), "source": "post"},
        viewer=viewer,
        settings=settings,
        now=clock.now(),
        unread=await views.unread(session, viewer),
    )


@router.get("/drops/{drop_id}", response_class=HTMLResponse)
async def drop_page(
    request: Request,
    drop_id: int,
    viewer: WebViewer,
    session: Session,
    clock: AppClock,
    settings: AppSettings,
    via: Annotated[Source, Query()] = "drop",
) -> HTMLResponse:
    page = await views.drop_page_with_posts(session, clock, settings, viewer, drop_id, via)
    return render(
        request,
        "drop.html",
        {"page": page},
        viewer=viewer,
        settings=settings,
        now=clock.now(),
        unread=await views.unread(session, viewer),
    )


@router.get("/drops/{drop_id}/card", response_class=HTMLResponse)
async def drop_card(
    request: Request,
    drop_id: int,
    viewer: WebViewer,
    session: Session,
    clock: AppClock,
    settings: AppSettings,
    variant: Annotated[Variant, Query()] = "card",
    source: Annotated[Source, Query()] = "post",
) -> HTMLResponse:
    """The drop card alone, for the live updates (countdown over, a notification came)."""
    page = await views.drop_page(session, clock, settings, viewer, drop_id, source)
    return render(
        request,
        "_drop_card.html",
        {"drop": page.drop, "reason": page.reason, "variant": variant, "source": source},
        viewer=viewer,
        settings=settings,
        now=clock.now(),
    )


@router.post("/drops/{drop_id}/{action}", response_class=HTMLResponse)
async def remind(
    request: Request,
    drop_id: int,
    action: Literal["remind", "unremind"],
    _csrf: CsrfChecked,
    viewer: WebViewer,
    session: Session,
    clock: AppClock,
    settings: AppSettings,
    variant: Annotated[Variant, Form()] = "card",
    source: Annotated[Source, Form()] = "post",
    next: Annotated[str | None, Form()] = None,
) -> Response:
    """The Remind me / Reminder set toggle. Answers with the new card (fetch) or a redirect."""
    viewer = need(viewer)
    drop = await views.set_reminder(session, clock, settings, viewer, drop_id, action == "remind")
    if not wants_fragment(request):
        return RedirectResponse(safe_next(next, f"/drops/{drop_id}"), status_code=303)
    return render(
        request,
        "_drop_card.html",
        {"drop": drop, "reason": None, "variant": variant, "source": source},
        viewer=viewer,
        settings=settings,
        now=clock.now(),
    )


@router.get("/notifications", response_class=HTMLResponse)
async def notifications_page(
    request: Request,
    viewer: WebViewer,
    session: Session,
    clock: AppClock,
    settings: AppSettings,
    max_id: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    viewer = need(viewer)
    inbox = await views.inbox(session, clock, settings, viewer, max_id)
    return render(
        request,
        "notifications.html",
        {"inbox": inbox},
        viewer=viewer,
        settings=settings,
        now=clock.now(),
        unread=await views.unread(session, viewer),
    )


@router.get("/notifications/{notification_id}/row", response_class=HTMLResponse)
async def notification_row(
    request: Request,
    notification_id: int,
    viewer: WebViewer,
    session: Session,
    clock: AppClock,
    settings: AppSettings,
) -> HTMLResponse:
    """One notification, for the live list."""
    viewer = need(viewer)
    item = await views.one_notification(session, clock, settings, viewer, notification_id)
    return render(
        request,
        "_notification.html",
        {"n": item},
        viewer=viewer,
        settings=settings,
        now=clock.now(),
    )


@router.post("/notifications/{notification_id}/open")
async def open_notification(
    notification_id: int,
    _csrf: CsrfChecked,
    viewer: WebViewer,
    session: Session,
    clock: AppClock,
) -> RedirectResponse:
    """Opening a notification marks it read and opens its drop."""
    target = await views.open_notification(session, clock, need(viewer), notification_id)
    return RedirectResponse(target, status_code=303)


@router.post("/notifications/read_all")
async def read_all(
    _csrf: CsrfChecked, viewer: WebViewer, session: Session, clock: AppClock
) -> RedirectResponse:
    await views.read_all(session, clock, need(viewer))
    return RedirectResponse("/notifications", status_code=303)


# -- posts ------------------------------------------------------------------------


@router.get("/compose", response_class=HTMLResponse)
async def compose_page(
    request: Request, viewer: WebViewer, session: Session, clock: AppClock, settings: AppSettings
) -> HTMLResponse:
    viewer = need(viewer)
    return render(
        request,
        "compose.html",
        {"form": FormState()},
        viewer=viewer,
        settings=settings,
        now=clock.now(),
        unread=await views.unread(session, viewer),
    )


@router.post("/compose", response_class=HTMLResponse)
async def compose(
    request: Request,
    _csrf: CsrfChecked,
    viewer: WebViewer,
    session: Session,
    clock: AppClock,
    settings: AppSettings,
    text: Annotated[str, Form()] = "",
    next: Annotated[str | None, Form()] = None,
) -> Response:
    """Publish a post; on bad input the form comes back with the error beside the field.
    Posting is rate limited per account, counted with the API's (the text is kept)."""
    viewer = need(viewer)
    form = FormState(values={"text": text})
    data = validate(PostCreate, {"text": text}, form)
    status_code, headers = 422, None
    if data is not None:
        try:
            await ratelimit.check_account(request, "post", viewer)
        except errors.RateLimited as exc:
            form.add_error(exc)
            status_code, headers = exc.status, exc.headers
        else:
            await views.create_post(session, clock, viewer, data)
            return RedirectResponse(safe_next(next, "/"), status_code=303)
    return render(
        request,
        "compose.html",
        {"form": form},
        viewer=viewer,
        settings=settings,
        now=clock.now(),
        unread=await views.unread(session, viewer),
        status_code=status_code,
        headers=headers,
    )


@router.get("/posts/{post_id}", response_class=HTMLResponse)
async def post_page(
    request: Request,
    post_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    viewer: WebViewer,
    session: Session,
    clock: AppClock,
    settings: AppSettings,
    shared: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    """One post: what a shared link opens."""
    post = await views.post_view(session, clock, settings, viewer, post_id)
    return render(
        request,
        "post.html",
        {"p": post, "shared": shared, "reason": views.why_not(settings, viewer), "source": "post"},
        viewer=viewer,
        settings=settings,
        now=clock.now(),
        unread=await views.unread(session, viewer),
    )


@router.post("/posts/{post_id}/share", response_class=HTMLResponse)
async def share(
    request: Request,
    post_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    _csrf: CsrfChecked,
    viewer: WebViewer,
    session: Session,
    clock: AppClock,
    settings: AppSettings,
    next: Annotated[str | None, Form()] = None,
) -> Response:
    """Count a share. The script copies the link and gets the new action bar; without the
    script the post's own page opens, with its link to copy."""
    post = await views.share_post(session, clock, settings, viewer, post_id)
    if not wants_fragment(request):
        return RedirectResponse(f"/posts/{post.id}?shared=1", status_code=303)
    return _actions(request, post, viewer, settings, clock.now(), next)


@router.post("/posts/{post_id}/{action}", response_class=HTMLResponse)
async def post_toggle(
    request: Request,
    post_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    action: PostAction,
    _csrf: CsrfChecked,
    viewer: WebViewer,
    session: Session,
    clock: AppClock,
    settings: AppSettings,
    next: Annotated[str | None, Form()] = None,
) -> Response:
    """Like, repost, bookmark and their undoing. Answers with the post's new action bar
    (fetch) or a redirect back."""
    viewer = need(viewer)
    post = await views.post_action(session, clock, settings, viewer, post_id, action)
    if not wants_fragment(request):
        return RedirectResponse(safe_next(next, f"/posts/{post.id}"), status_code=303)
    return _actions(request, post, viewer, settings, clock.now(), next)


def _actions(
    request: Request,
    post: PostOut,
    viewer: Viewer | None,
    settings: Settings,
    now: datetime,
    next: str | None,
) -> HTMLResponse:
    return render(
        request,
        "_post_actions.html",
        {"o": post, "path": safe_next(next, "/")},
        viewer=viewer,
        settings=settings,
        now=now,
    )


@router.get("/tags/{tag}", response_class=HTMLResponse)
async def tag_page(
    request: Request,
    tag: str,
    viewer: WebViewer,
    session: Session,
    clock: AppClock,
    settings: AppSettings,
    max_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    """The drop that owns the tag (with Remind me) and the posts that carry it."""
    page = await views.tag_view(session, clock, settings, viewer, tag, max_id)
    return render(
        request,
        "tag.html",
        {"page": page, "source": "tag"},
        viewer=viewer,
        settings=settings,
        now=clock.now(),
        unread=await views.unread(session, viewer),
    )


@router.get("/bookmarks", response_class=HTMLResponse)
async def bookmarks_page(
    request: Request,
    viewer: WebViewer,
    session: Session,
    clock: AppClock,
    settings: AppSettings,
    max_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    viewer = need(viewer)
    page = await views.bookmarks(session, clock, settings, viewer, max_id)
    return render(
        request,
        "bookmarks.html",
        {"page": page, "source": "post"},
        viewer=viewer,
        settings=settings,
        now=clock.now(),
        unread=await views.unread(session, viewer),
    )
