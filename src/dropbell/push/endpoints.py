"""Web Push API, shaped like Mastodon's: the server key and the token's subscription."""

from __future__ import annotations

from fastapi import APIRouter, Request

from dropbell.accounts.deps import CurrentViewer, Session
from dropbell.push import service
from dropbell.push.schemas import PushKeyOut, PushSubscriptionOut, SubscribeBody, UpdateBody

router = APIRouter(prefix="/api/v1/push", tags=["push"])


@router.get("/key")
async def get_key(request: Request, session: Session) -> PushKeyOut:
    """The VAPID application server key (``applicationServerKey`` in the browser)."""
    state = request.app.state
    return await service.public_key(session, state.clock, state.settings)


@router.post("/subscription")
async def subscribe(
    request: Request, session: Session, viewer: CurrentViewer, body: SubscribeBody
) -> PushSubscriptionOut:
    """Subscribe this access token (one per token: a new POST replaces it)."""
    state = request.app.state
    return await service.subscribe(session, state.clock, state.settings, viewer, body)


@router.get("/subscription")
async def get_subscription(
    request: Request, session: Session, viewer: CurrentViewer
) -> PushSubscriptionOut:
    """This access token's subscription, or 404."""
    state = request.app.state
    return await service.get_subscription(session, state.clock, state.settings, viewer)


@router.put("/subscription")
async def update_subscription(
    request: Request, session: Session, viewer: CurrentViewer, body: UpdateBody
) -> PushSubscriptionOut:
    """Change which notification types are pushed."""
    state = request.app.state
    return await service.update_alerts(session, state.clock, state.settings, viewer, body)


@router.delete("/subscription")
async def unsubscribe(session: Session, viewer: CurrentViewer) -> dict[str, str]:
    """Remove this access token's subscription (``{}`` whether or not there was one)."""
    await service.unsubscribe(session, viewer)
    return {}
