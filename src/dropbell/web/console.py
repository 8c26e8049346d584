"""The brand console (partners only): create, edit, reschedule, cancel; each drop's funnel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dropbell import errors
from dropbell.accounts.deps import Session, WebViewer
from dropbell.accounts.service import Viewer
from dropbell.config import Settings
from dropbell.deps import AppClock, AppSettings
from dropbell.drops.schemas import DropCreate, DropUpdate
from dropbell.web import views
from dropbell.web.forms import DROP_FIELDS, Form, drop_data, text_values, validate
from dropbell.web.pages import need
from dropbell.web.render import input_time, render
from dropbell.web.routing import PageRoute
from dropbell.web.session import CsrfChecked

router = APIRouter(prefix="/console", include_in_schema=False, route_class=PageRoute)

NOTICES = {
    "created": "Your drop is announced. Shoppers can tap Remind me now.",
    "saved": "Changes saved.",
    "rescheduled": "Rescheduled. Subscribers are told the new time.",
    "cancelled": "Drop cancelled. Subscribers are told.",
}


def _form_page(
    request: Request,
    viewer: Viewer,
    settings: Settings,
    now: object,
    form: Form,
    *,
    drop: object = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "console/form.html",
        {"form": form, "drop": drop},
        viewer=viewer,
        settings=settings,
        now=now,  # type: ignore[arg-type]
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
async def index(
    request: Request,
    viewer: WebViewer,
    session: Session,
    clock: AppClock,
    settings: AppSettings,
    notice: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    me = need(viewer)
    page = await views.console(session, clock, settings, me)
    return render(
        request,
        "console/index.html",
        {"page": page, "notice": NOTICES.get(notice or "")},
        viewer=me,
        settings=settings,
        now=clock.now(),
        unread=await views.unread(session, me),
    )


@router.get("/drops/new", response_class=HTMLResponse)
async def new_drop(
    request: Request, viewer: WebViewer, clock: AppClock, settings: AppSettings
) -> HTMLResponse:
    me = need(viewer)
    if not me.account.is_partner:
        raise errors.NotPartner("The brand console is for approved partner brands.")
    return _form_page(request, me, settings, clock.now(), Form(values={"currency": "USD"}))


@router.post("/drops/new", response_class=HTMLResponse)
async def create_drop(
    request: Request,
    _csrf: CsrfChecked,
    viewer: WebViewer,
    session: Session,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    me = need(viewer)
    form = Form(values=text_values(await request.form(), DROP_FIELDS))
    data = validate(DropCreate, drop_data(form.values, me.account.timezone, form), form)
    if data is not None and form.ok:
        try:
            drop_id = await views.create_drop(session, clock, settings, me, data)
        except errors.AppError as exc:
            if exc.status in (401, 403):
                raise
            form.add_error(exc)
        else:
            return RedirectResponse(f"/console/drops/{drop_id}?notice=created", status_code=303)
    return _form_page(request, me, settings, clock.now(), form, status_code=422)


@router.get("/drops/{drop_id}", response_class=HTMLResponse)
async def drop_stats(
    request: Request,
    drop_id: int,
    viewer: WebViewer,
    session: Session,
    clock: AppClock,
    settings: AppSettings,
    notice: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    me = need(viewer)
    page = await views.console_drop(session, clock, settings, me, drop_id)
    return render(
        request,
        "console/drop.html",
        {"page": page, "notice": NOTICES.get(notice or "")},
        viewer=me,
        settings=settings,
        now=clock.now(),
        unread=await views.unread(session, me),
    )


@router.get("/drops/{drop_id}/edit", response_class=HTMLResponse)
async def edit_drop(
    request: Request,
    drop_id: int,
    viewer: WebViewer,
    session: Session,
    clock: AppClock,
    settings: AppSettings,
) -> HTMLResponse:
    me = need(viewer)
    drop = await views.owned_drop(session, clock, settings, me, drop_id)
    tz = me.account.timezone
    values = {
        "title": drop.title,
        "description": drop.description,
        "price": drop.price or "",
        "currency": drop.currency or "",
        "image_url": drop.image_url or "",
        "launch_at": input_time(drop.launch_at, tz),
        "shop_url": drop.shop_url,
        "tag": drop.tag,
    }
    return _form_page(request, me, settings, clock.now(), Form(values=values), drop=drop)


@router.post("/drops/{drop_id}/edit", response_class=HTMLResponse)
async def update_drop(
    request: Request,
    drop_id: int,
    _csrf: CsrfChecked,
    viewer: WebViewer,
    session: Session,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    me = need(viewer)
    raw = await request.form()
    form = Form(values=text_values(raw, DROP_FIELDS))
    was = str(raw.get("launch_at_was") or "")
    body = drop_data(form.values, me.account.timezone, form, launch_was=was)
    data = validate(DropUpdate, body, form)
    if data is not None and form.ok:
        try:
            await views.update_drop(session, clock, settings, me, drop_id, data)
        except errors.AppError as exc:
            if exc.status in (401, 403, 404):
                raise
            form.add_error(exc)
        else:
            notice = "rescheduled" if "launch_at" in body else "saved"
            return RedirectResponse(f"/console/drops/{drop_id}?notice={notice}", status_code=303)
    drop = await views.owned_drop(session, clock, settings, me, drop_id)
    return _form_page(request, me, settings, clock.now(), form, drop=drop, status_code=422)


@router.post("/drops/{drop_id}/cancel")
async def cancel_drop(
    drop_id: int,
    _csrf: CsrfChecked,
    viewer: WebViewer,
    session: Session,
    clock: AppClock,
) -> RedirectResponse:
    await views.cancel_drop(session, clock, need(viewer), drop_id)
    return RedirectResponse(f"/console/drops/{drop_id}?notice=cancelled", status_code=303)
