"""What shoppers see: the timeline, a drop's page, Remind me, notifications, tag pages."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dropbell.accounts.deps import Session, WebViewer
from dropbell.accounts.service import Viewer
from dropbell.deps import AppClock, AppSettings
from dropbell.web import views
from dropbell.web.render import render
from dropbell.web.routing import LoginRequired, PageRoute, wants_fragment
from dropbell.web.session import CsrfChecked

router = APIRouter(include_in_schema=False, route_class=PageRoute)

Variant = Literal["card", "page"]
Source = Literal["post", "tag", "drop", "notification"]


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
    max_id: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    page = await views.timeline(session, clock, settings, viewer, max_id)
    return render(
        request,
        "home.html",
        {"page": page},
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
    page = await views.drop_page(session, clock, settings, viewer, drop_id, via)
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
    drop_id = await views.open_notification(session, clock, need(viewer), notification_id)
    target = f"/drops/{drop_id}?via=notification" if drop_id is not None else "/notifications"
    return RedirectResponse(target, status_code=303)


@router.post("/notifications/read_all")
async def read_all(
    _csrf: CsrfChecked, viewer: WebViewer, session: Session, clock: AppClock
) -> RedirectResponse:
    await views.read_all(session, clock, need(viewer))
    return RedirectResponse("/notifications", status_code=303)
