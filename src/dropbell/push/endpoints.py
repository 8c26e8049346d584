"""Web Push API, shaped like Mastodon's: the server key and the token's subscription."""

from __future__ import annotations

from fastapi import APIRouter

from dropbell.accounts.deps import Ctx, CurrentViewer, Session
from dropbell.push import service
from dropbell.push.schemas import PushKeyOut, PushSubscriptionOut, SubscribeBody, UpdateBody

router = APIRouter(prefix="/api/v1/push", tags=["push"])


@router.get("/key")
async def get_key(ctx: Ctx) -> PushKeyOut:
    """The VAPID application server key (``applicationServerKey`` in the browser)."""
    return await service.public_key(ctx)


@router.post("/subscription")
async def subscribe(ctx: Ctx, viewer: CurrentViewer, body: SubscribeBody) -> PushSubscriptionOut:
    """Subscribe this access token (one per token: a new POST replaces it)."""
    return await service.subscribe(ctx, viewer, body)


@router.get("/subscription")
async def get_subscription(ctx: Ctx, viewer: CurrentViewer) -> PushSubscriptionOut:
    """This access token's subscription, or 404."""
    return await service.get_subscription(ctx, viewer)


@router.put("/subscription")
async def update_subscription(
    ctx: Ctx, viewer: CurrentViewer, body: UpdateBody
) -> PushSubscriptionOut:
    """Change which notification types are pushed."""
    return await service.update_alerts(ctx, viewer, body)


@router.delete("/subscription")
async def unsubscribe(session: Session, viewer: CurrentViewer) -> dict[str, str]:
    """Remove this access token's subscription (``{}`` whether or not there was one)."""
    await service.unsubscribe(session, viewer)
    return {}
