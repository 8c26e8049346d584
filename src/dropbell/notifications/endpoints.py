from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from dropbell.accounts.deps import Ctx, CurrentViewer, Session
from dropbell.notifications import service
from dropbell.notifications.models import NotificationType
from dropbell.notifications.schemas import Count, NotificationOut
from dropbell.pagination import PageParams, set_next_link
from dropbell.types import IdPath

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("", response_model=list[NotificationOut])
async def list_notifications(
    request: Request,
    response: Response,
    viewer: CurrentViewer,
    ctx: Ctx,
    page: PageParams,
    types: Annotated[list[NotificationType] | None, Query(alias="types[]")] = None,
) -> list[NotificationOut]:
    """The caller's notifications, newest first; `types[]=drop_live` filters."""
    rows, more = page.trim(
        await service.list_for(ctx.session, viewer.account.id, page, types or ())
    )
    set_next_link(request, response, rows[-1].id if rows else None, more)
    return await service.present(ctx, rows, viewer)


@router.get("/unread_count", response_model=Count)
async def unread_count(viewer: CurrentViewer, session: Session) -> Count:
    return Count(count=await service.unread_count(session, viewer.account.id))


@router.post("/read_all", response_model=Count)
async def read_all(viewer: CurrentViewer, ctx: Ctx) -> Count:
    """Mark every unread notification read; returns how many were."""
    return Count(count=await service.mark_all_read(ctx, viewer))


@router.post("/{notification_id}/read", response_model=NotificationOut)
async def read(notification_id: IdPath, viewer: CurrentViewer, ctx: Ctx) -> NotificationOut:
    """Open a notification (counts as opened in the brand's funnel)."""
    notification = await service.mark_read(ctx, viewer, notification_id)
    return (await service.present(ctx, [notification], viewer))[0]
