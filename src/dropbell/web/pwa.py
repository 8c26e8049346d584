"""The web app as an installable app: the service worker (Web Push), the manifest, and the
push subscription of this browser's session.

``/push/key`` and ``/push/subscription`` are the JSON API's push endpoints for the web
app's own script: the session cookie instead of a bearer token (which the JSON API insists
on), the CSRF header on every change. They call the same service functions, so a browser's
session has one subscription, exactly like an app's token.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse

from dropbell import errors
from dropbell.accounts.deps import Ctx, Session, WebViewer
from dropbell.accounts.service import Viewer
from dropbell.push import service as push
from dropbell.push.schemas import PushKeyOut, PushSubscriptionOut, SubscribeBody, UpdateBody
from dropbell.web.session import CsrfChecked

STATIC = Path(__file__).parent / "static"
THEME = "#5b3df5"

router = APIRouter(include_in_schema=False)


@router.get("/sw.js")
async def service_worker() -> FileResponse:
    """At the site's root so that its scope is the whole site; never cached, so a new
    version is picked up at the next visit."""
    return FileResponse(
        STATIC / "sw.js",
        media_type="text/javascript; charset=utf-8",
        headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
    )


MANIFEST = {
    "name": "dropbell",
    "short_name": "dropbell",
    "description": "Reminders for product drops, on time.",
    "id": "/",
    "start_url": "/",
    "scope": "/",
    "display": "standalone",
    "background_color": "#f6f4f1",
    "theme_color": THEME,
    "icons": [
        {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
        {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
        {
            "src": "/static/icons/icon-512.png",
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
        {"src": "/static/icons/icon.svg", "sizes": "any", "type": "image/svg+xml"},
    ],
}


@router.get("/manifest.webmanifest")
async def manifest() -> JSONResponse:
    return JSONResponse(
        MANIFEST, media_type="application/manifest+json", headers={"Cache-Control": "no-cache"}
    )


# -- this session's push subscription ----------------------------------------------------


def _shopper(viewer: Viewer | None) -> Viewer:
    if viewer is None:
        raise errors.Unauthorized("Log in first.")
    return viewer


@router.get("/push/key")
async def push_key(ctx: Ctx) -> PushKeyOut:
    return await push.public_key(ctx)


@router.get("/push/subscription")
async def get_subscription(ctx: Ctx, viewer: WebViewer) -> PushSubscriptionOut:
    """This session's subscription, or 404."""
    return await push.get_subscription(ctx, _shopper(viewer))


@router.post("/push/subscription")
async def subscribe(
    _csrf: CsrfChecked, ctx: Ctx, viewer: WebViewer, body: SubscribeBody
) -> PushSubscriptionOut:
    """Subscribe this session (a new POST replaces its subscription)."""
    return await push.subscribe(ctx, _shopper(viewer), body)


@router.put("/push/subscription")
async def update_alerts(
    _csrf: CsrfChecked, ctx: Ctx, viewer: WebViewer, body: UpdateBody
) -> PushSubscriptionOut:
    """Which kinds of notification are pushed."""
    return await push.update_alerts(ctx, _shopper(viewer), body)


@router.delete("/push/subscription")
async def unsubscribe(_csrf: CsrfChecked, session: Session, viewer: WebViewer) -> dict[str, str]:
    await push.unsubscribe(session, _shopper(viewer))
    return {}
