from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse

from dropbell import counting, i18n
from dropbell.accounts.deps import (
    OPTIONAL_AUTH,
    Conn,
    Ctx,
    CurrentCaller,
    CurrentViewer,
    OptionalViewer,
    Session,
    WebViewer,
)
from dropbell.deps import AppClock, AppSettings
from dropbell.drops import access, calendar, export, service, stats
from dropbell.drops.schemas import (
    DropCreate,
    DropOut,
    DropStats,
    DropUpdate,
    RemindBody,
    ShopSource,
)
from dropbell.pagination import PageParams, set_next_link
from dropbell.ratelimit import limit
from dropbell.reminders import hotpath
from dropbell.types import IdPath

router = APIRouter(prefix="/api/v1/drops", tags=["drops"])
shop_router = APIRouter(tags=["drops"])
REMIND_LIMIT = Depends(limit("remind", by="caller"))


@router.post("", status_code=201, response_model=DropOut)
async def create_drop(
    request: Request, body: DropCreate, viewer: CurrentViewer, ctx: Ctx
) -> DropOut:
    """Announce a drop (partners only). Its announcement post and reminders are created with it."""
    drop = await service.create_drop(ctx, viewer, body, request_host=request.url.hostname)
    return await service.present_one(ctx, drop, viewer)


@router.get("", response_model=list[DropOut], openapi_extra=OPTIONAL_AUTH)
async def list_drops(
    request: Request,
    response: Response,
    viewer: OptionalViewer,
    ctx: Ctx,
    page: PageParams,
    status: Annotated[Literal["upcoming", "live", "all"], Query()] = "all",
) -> list[DropOut]:
    """Drops, newest first. `upcoming` = scheduled, `live` = launched, `all` includes cancelled."""
    drops, more = page.trim(await service.list_drops(ctx, status, page))
    set_next_link(request, response, drops[-1].id if drops else None, more)
    return await service.present(ctx, drops, viewer)


@router.get("/{drop_id}", response_model=DropOut, openapi_extra=OPTIONAL_AUTH)
async def get_drop(drop_id: IdPath, viewer: OptionalViewer, ctx: Ctx) -> DropOut:
    drop = await access.get_drop(ctx.session, drop_id)
    return await service.present_one(ctx, drop, viewer)


@router.patch("/{drop_id}", response_model=DropOut)
async def update_drop(
    request: Request, drop_id: IdPath, body: DropUpdate, viewer: CurrentViewer, ctx: Ctx
) -> DropOut:
    """Edit (owning brand). A new `launch_at` reschedules and tells the subscribers."""
    drop = await service.update_drop(ctx, viewer, drop_id, body, request_host=request.url.hostname)
    return await service.present_one(ctx, drop, viewer)


@router.post("/{drop_id}/cancel", response_model=DropOut)
async def cancel_drop(drop_id: IdPath, viewer: CurrentViewer, ctx: Ctx) -> DropOut:
    """Cancel (owning brand): pending reminders are dropped and subscribers are told."""
    drop = await service.cancel_drop(ctx, viewer, drop_id)
    return await service.present_one(ctx, drop, viewer)


# Remind me and its undo are what a launch rush is made of: they work on a plain
# connection (CurrentCaller, Conn), not the ORM session; see docs/architecture.md.
@router.post("/{drop_id}/remind", response_model=DropOut, dependencies=[REMIND_LIMIT])
async def remind(
    drop_id: IdPath,
    caller: CurrentCaller,
    conn: Conn,
    clock: AppClock,
    settings: AppSettings,
    body: RemindBody | None = None,
) -> DropOut:
    """Remind me, with the leads chosen from `offset_choices` (none given: the default lead).

    Idempotent; again with other offsets changes the choice from now on. 422
    `invalid_offset` for a lead off the menu, 403 `not_eligible` outside the rollout, 409
    once live or cancelled.
    """
    offsets = body.offsets if body is not None else None
    toggled = await hotpath.remind(conn, clock, settings, caller, drop_id, offsets)
    return service.present_toggled(clock, settings, caller, toggled)


@router.post("/{drop_id}/unremind", response_model=DropOut, dependencies=[REMIND_LIMIT])
async def unremind(
    drop_id: IdPath, caller: CurrentCaller, conn: Conn, clock: AppClock, settings: AppSettings
) -> DropOut:
    """Take the reminder back: what is still to come stops, what was delivered stays. Idempotent."""
    toggled = await hotpath.unremind(conn, clock, caller, drop_id)
    return service.present_toggled(clock, settings, caller, toggled)


@router.get("/{drop_id}/stats", response_model=DropStats)
async def drop_stats(drop_id: IdPath, viewer: CurrentViewer, session: Session) -> DropStats:
    """The owning brand's funnel and delivery lateness."""
    drop = await access.access_drop(session, viewer, drop_id)
    return await stats.drop_stats(session, drop)


@router.get(
    "/{drop_id}/stats.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The figures, as CSV."}},
)
async def drop_stats_csv(drop_id: IdPath, viewer: CurrentViewer, ctx: Ctx) -> Response:
    """The owning brand's figures as a CSV download: `section,name,value`, one figure a row."""
    drop = await access.access_drop(ctx.session, viewer, drop_id)
    body, disposition = await stats.drop_figures_csv(ctx, drop)
    return export.csv_response(body, disposition)


@router.get(
    "/{drop_id}/calendar.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}, "description": "An iCalendar file."}},
)
async def drop_calendar(request: Request, drop_id: IdPath, ctx: Ctx) -> Response:
    """Add to calendar. Stable UID, SEQUENCE grows with each reschedule; cancelled → CANCELLED.
    Its words are in the web app's language for this browser (its switcher's cookie, else
    ``Accept-Language``), English by default."""
    drop = await access.get_drop(ctx.session, drop_id)
    shown = await service.present_one(ctx, drop, None)
    locale = i18n.choose(
        request.cookies.get(i18n.COOKIE), None, request.headers.get("accept-language")
    )
    with i18n.use(locale):
        body = calendar.drop_calendar(
            drop,
            brand_name=shown.brand.display_name,
            url=shown.url,
            public_url=ctx.settings.public_url,
            lead_seconds=ctx.settings.reminder_lead_seconds,
            now=ctx.clock.now(),
        )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="drop-{drop.id}.ics"',
            "Cache-Control": "no-cache",
        },
    )


@shop_router.get(
    "/drops/{drop_id}/shop",
    response_class=RedirectResponse,
    status_code=302,
    responses={302: {"description": "To the brand's shop; the click is recorded."}},
    openapi_extra=OPTIONAL_AUTH,
)
async def shop(
    request: Request, drop_id: IdPath, viewer: WebViewer, ctx: Ctx, source: ShopSource = "drop"
) -> RedirectResponse:
    """Shop on website: redirects to the brand, counting the click once per viewer and hour."""
    who = counting.viewer_key(request, viewer)
    url = await service.record_shop_click(ctx, drop_id, source, viewer, who)
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
