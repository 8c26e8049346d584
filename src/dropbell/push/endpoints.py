"""Web Push API, shaped like Mastodon's: the server key and the token's subscription."""

from __future__ import annotations

from fastapi import APIRouter

from dropbell.accounts.deps import CurrentViewer, Session
from dropbell.deps import AppClock, AppSettings
from dropbell.push import service
from dropbell.push.schemas import PushKeyOut, PushSubscriptionOut, SubscribeBody, UpdateBody

router = APIRouter(prefix="/api/v1/push", tags=["push"])


@router.get("/key")
async def get_key(session: Session, clock: AppClock, settings: AppSettings) -> PushKeyOut:
    """The VAPID application server key (``applicationServerKey`` in the browser)."""
    return await service.public_key(session, clock, settings)


@router.post("/subscription")
async def subscribe(
    session: Session,
    clock: AppClock,
    settings: AppSettings,
    viewer: CurrentViewer,
    body: SubscribeBody,
) -> PushSubscriptionOut:
    """Subscribe this access token (one per token: a new POST replaces it)."""
    return await service.subscribe(session, clock, settings, viewer, body)


@router.get("/subscription")
async def get_subscription(
    session: Session, clock: AppClock, settings: AppSettings, viewer: CurrentViewer
) -> PushSubscriptionOut:
    """This access token's subscription, or 404."""
    return await service.get_subscription(session, clock, settings, viewer)


@router.put("/subscription")
async def update_subscription(
    session: Session,
    clock: AppClock,
    settings: AppSettings,
    viewer: CurrentViewer,
    body: UpdateBody,
) -> PushSubscriptionOut:
    """Change which notification types are pushed."""
    return await service.update_alerts(session, clock, settings, viewer, body)


@router.delete("/subscription")
async def unsubscribe(session: Session, viewer: CurrentViewer) -> dict[str, str]:
    """Remove this access token's subscription (``{}`` whether or not there was one)."""
    await service.unsubscribe(session, viewer)
    return {}
