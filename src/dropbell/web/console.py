"""The brand console (partners only): create, edit, reschedule, cancel; each drop's figures,
its analytics page (charts) and their CSV download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dropbell import errors
from dropbell.drops import access, export
from dropbell.drops import service as drops
from dropbell.drops.schemas import DropCreate, DropUpdate
from dropbell.i18n import N_, _
from dropbell.types import IdPath
from dropbell.web import dashboard
from dropbell.web.context import Ctx, PageContext
from dropbell.web.forms import DROP_FIELDS, Form, drop_data, text_values, validate
from dropbell.web.render import input_time
from dropbell.web.routing import PageRoute
from dropbell.web.session import CsrfChecked
from dropbell.web.uploads import shown_image, take_image

router = APIRouter(prefix="/console", include_in_schema=False, route_class=PageRoute)

NOTICES = {
    "created": N_("Your drop is announced. Shoppers can tap Remind me now."),
    "saved": N_("Changes saved."),
    "rescheduled": N_("Rescheduled. Subscribers are told the new time."),
    "cancelled": N_("Drop cancelled. Subscribers are told."),
}


def _notice(key: str | None) -> str | None:
    text = NOTICES.get(key or "")
    return _(text) if text else None


async def _form_page(
    ctx: PageContext, form: Form, *, drop: object = None, status_code: int = 200
) -> HTMLResponse:
    image = await shown_image(ctx, ctx.need(), form)
    context = {
        "form": form,
        "drop": drop,
        "image": image,
        "max_mb": _max_mb(ctx),
        "max_bytes": ctx.settings.media_max_bytes,
    }
    return ctx.render("console/form.html", context, status_code=status_code)


def _max_mb(ctx: PageContext) -> str:
    return f"{ctx.settings.media_max_bytes / 1024 / 1024:g}"


@router.get("", response_class=HTMLResponse)
async def index(ctx: Ctx, notice: Annotated[str | None, Query()] = None) -> HTMLResponse:
    page = await dashboard.console(ctx, ctx.need())
    return await ctx.page("console/index.html", {"page": page, "notice": _notice(notice)})


@router.get("/drops/new", response_class=HTMLResponse)
async def new_drop(ctx: Ctx) -> HTMLResponse:
    access.require_partner(ctx.need())  # the API's own check: a removed partner is refused
    return await _form_page(ctx, Form(values={"currency": "USD"}))


@router.post("/drops/new", response_class=HTMLResponse)
async def create_drop(_csrf: CsrfChecked, ctx: Ctx) -> Response:
    me = ctx.need()
    raw = await ctx.request.form()
    form = Form(values=text_values(raw, DROP_FIELDS))
    await take_image(ctx, me, raw, form)
    data = validate(DropCreate, drop_data(form.values, me.account.timezone, form), form)
    if data is not None and form.ok:
        try:
            async with ctx.session.begin_nested():  # on an error nothing of it stays
                created = await drops.create_drop(
                    ctx,
                    me,
                    data,
                    request_host=ctx.request.url.hostname,
                )
        except errors.AppError as exc:
            if exc.status in (401, 403):
                raise
            form.add_error(exc)
        else:
            return RedirectResponse(f"/console/drops/{created.id}?notice=created", status_code=303)
    return await _form_page(ctx, form, status_code=422)


@router.get("/drops/{drop_id}", response_class=HTMLResponse)
async def drop_stats(
    drop_id: IdPath, ctx: Ctx, notice: Annotated[str | None, Query()] = None
) -> HTMLResponse:
    page = await dashboard.console_drop(ctx, ctx.need(), drop_id)
    return await ctx.page("console/drop.html", {"page": page, "notice": _notice(notice)})


@router.get("/drops/{drop_id}/stats.csv")
async def drop_stats_csv(drop_id: IdPath, ctx: Ctx) -> Response:
    """The analytics page's figures as a CSV download (the API's ``stats.csv``)."""
    body, disposition = await dashboard.figures_csv(ctx, ctx.need(), drop_id)
    return export.csv_response(body, disposition)


@router.get("/drops/{drop_id}/edit", response_class=HTMLResponse)
async def edit_drop(drop_id: IdPath, ctx: Ctx) -> HTMLResponse:
    me = ctx.need()
    owned = await access.access_drop(ctx.session, me, drop_id)
    drop = await drops.present_one(ctx, owned, me)
    tz = me.account.timezone
    values = {
        "title": drop.title,
        "description": drop.description,
        "price": drop.price or "",
        "currency": drop.currency or "",
        "image_url": "" if drop.media_id else (drop.image_url or ""),
        "media_id": str(drop.media_id or ""),
        "image_alt": drop.image_alt,
        "countries": ", ".join(drop.countries or []),
        "launch_at": input_time(drop.launch_at, tz),
        "shop_url": drop.shop_url,
        "tag": drop.tag,
    }
    return await _form_page(ctx, Form(values=values), drop=drop)


@router.post("/drops/{drop_id}/edit", response_class=HTMLResponse)
async def update_drop(drop_id: IdPath, _csrf: CsrfChecked, ctx: Ctx) -> Response:
    me = ctx.need()
    raw = await ctx.request.form()
    form = Form(values=text_values(raw, DROP_FIELDS))
    await take_image(ctx, me, raw, form)
    was = str(raw.get("launch_at_was") or "")
    body = drop_data(form.values, me.account.timezone, form, launch_was=was)
    data = validate(DropUpdate, body, form)
    if data is not None and form.ok:
        try:
            async with ctx.session.begin_nested():  # on an error nothing changes
                await drops.update_drop(
                    ctx,
                    me,
                    drop_id,
                    data,
                    request_host=ctx.request.url.hostname,
                )
        except errors.AppError as exc:
            if exc.status in (401, 403, 404):
                raise
            form.add_error(exc)
        else:
            notice = "rescheduled" if "launch_at" in body else "saved"
            return RedirectResponse(f"/console/drops/{drop_id}?notice={notice}", status_code=303)
    owned = await access.access_drop(ctx.session, me, drop_id)
    drop = await drops.present_one(ctx, owned, me)
    return await _form_page(ctx, form, drop=drop, status_code=422)


@router.post("/drops/{drop_id}/cancel")
async def cancel_drop(drop_id: IdPath, _csrf: CsrfChecked, ctx: Ctx) -> RedirectResponse:
    await drops.cancel_drop(ctx, ctx.need(), drop_id)
    return RedirectResponse(f"/console/drops/{drop_id}?notice=cancelled", status_code=303)
