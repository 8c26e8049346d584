"""create_app(): the ASGI app, its routers, and the lifespan that runs the scheduler."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import SecretStr
from sqlalchemy import text
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from dropbell import __version__, errors
from dropbell.accounts.deps import Bearer
from dropbell.accounts.endpoints import router as accounts_router
from dropbell.background import make_workers, running
from dropbell.brands.endpoints import router as brands_router
from dropbell.clock import Clock, FakeClock, SystemClock
from dropbell.config import Settings
from dropbell.drops.endpoints import router as drops_router
from dropbell.drops.endpoints import shop_router
from dropbell.live.hub import Hub
from dropbell.live.routes import router as stream_router
from dropbell.media import service as media
from dropbell.media.endpoints import files_router as media_files_router
from dropbell.media.endpoints import router as media_router
from dropbell.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from dropbell.notifications.endpoints import router as notifications_router
from dropbell.posts.endpoints import router as posts_router
from dropbell.push.endpoints import router as push_router
from dropbell.ratelimit import make_counter
from dropbell.search.endpoints import router as search_router
from dropbell.web.auth import router as web_auth_router
from dropbell.web.brands import router as web_brands_router
from dropbell.web.console import router as web_console_router
from dropbell.web.discover import router as discover_router
from dropbell.web.pages import router as pages_router
from dropbell.web.pwa import router as pwa_router
from dropbell.web.routing import page_for_any_error
from dropbell.wiring import Wiring, connect

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "web" / "static"
UPLOAD_PATHS = ("/api/v1/media", "/console/drops/")

DESCRIPTION = """
Product-drop reminders. Brands announce a drop; shoppers tap **Remind me** and are
told in the app 15 minutes before and at the launch, exactly once and on time.

Errors are `{"error": "<human message>", "code": "<machine_code>"}`. Lists are newest
first, paged with `limit` (≤ 80) and `max_id`, with a `Link: <…>; rel="next"` header.
"""


def create_app(
    settings: Settings | None = None,
    clock: Clock | None = None,
    *,
    run_scheduler: bool = False,
) -> FastAPI:
    """Build the app. ``run_scheduler`` also runs the reminder engine in this process."""
    settings = settings or Settings()
    if clock is None:
        clock = FakeClock(datetime.now(UTC)) if settings.test_hooks else SystemClock()
    wiring = connect(settings)
    # The hub only reads (what a notice looks like, who sees it, unread counts).
    hub = Hub(wiring.read_sessionmaker, clock, settings, wiring.broker)
    # FastAPIOffline: /docs serves Swagger UI from this package, not from a CDN.
    app = FastAPIOffline(
        title="dropbell",
        version=__version__,
        description=DESCRIPTION,
        lifespan=_lifespan(wiring, hub, clock, settings, run_scheduler=run_scheduler),
        responses=errors.ERROR_RESPONSES,
    )
    _keep_state(app, settings, clock, wiring, hub)
    errors.install_handlers(app, page=page_for_any_error)
    _add_middleware(app, settings)
    _include_routers(app, settings)
    _add_operations(app)
    return app


def _lifespan(
    wiring: Wiring, hub: Hub, clock: Clock, settings: Settings, *, run_scheduler: bool
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The hub's streams while the app serves, and with ``run_scheduler`` the scheduler and
    the push worker (``app.state.scheduler``); then the hub, the broker and the engine
    close."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await hub.start()
        try:
            if run_scheduler:
                workers = make_workers(wiring.sessionmaker, clock, settings, wiring.publisher)
                app.state.scheduler = workers.scheduler
                async with running(workers, asyncio.Event()):
                    yield
            else:
                yield
        finally:
            await hub.close()
            await wiring.engine.dispose()

    return lifespan


def _keep_state(app: FastAPI, settings: Settings, clock: Clock, wiring: Wiring, hub: Hub) -> None:
    """What the dependencies and handlers find on ``app.state``."""
    app.state.settings = settings
    app.state.clock = clock
    app.state.engine = wiring.engine
    app.state.sessionmaker = wiring.sessionmaker
    app.state.read_sessionmaker = wiring.read_sessionmaker  # GET and HEAD (db.session_dependency)
    # Remind me's turn at a pooled connection, first come first served (reminders.hotpath).
    app.state.connection_gate = asyncio.Semaphore(settings.db_pool_size)
    app.state.scheduler = None
    app.state.hub = hub
    app.state.rate_counter = make_counter(settings.redis_url)


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    # An image upload (the API's, the console's drop form) may carry the largest image
    # and the form around it; everything else is held to DROPBELL_MAX_BODY_BYTES.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        uploads=UPLOAD_PATHS,
        upload_bytes=settings.media_max_bytes + settings.max_body_bytes,
        upload_message=media.too_large(settings).detail,
    )
    # HSTS only when served over https (the public URL says so): never on a local http.
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.secure_cookies)
    if settings.trusted_proxy_list:
        # Outermost: the rate limits and counting see the client a trusted proxy names.
        # Nobody else's X-Forwarded-For is believed (not even loopback's).
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)


def _include_routers(app: FastAPI, settings: Settings) -> None:
    app.include_router(accounts_router)
    app.include_router(brands_router)  # after /accounts/me: a username is 3 letters or more
    app.include_router(drops_router)
    app.include_router(notifications_router)
    app.include_router(stream_router)
    app.include_router(posts_router)
    app.include_router(push_router)
    app.include_router(media_router)
    app.include_router(media_files_router)
    app.include_router(search_router)
    app.include_router(shop_router)
    app.include_router(pages_router)
    app.include_router(web_brands_router)
    app.include_router(discover_router)
    app.include_router(web_auth_router)
    app.include_router(web_console_router)
    app.include_router(pwa_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if settings.test_hooks:  # imported only then: a normal `dropbell serve` never loads it
        from dropbell.tools.testhooks import router as test_router

        app.include_router(test_router)


def _add_operations(app: FastAPI) -> None:
    """/healthz for load balancers, /metrics for Prometheus."""

    @app.get("/healthz", tags=["operations"])
    async def healthz(request: Request) -> JSONResponse:
        """200 when the database answers, 503 when it does not."""
        try:
            async with request.app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning("health check failed: %s", exc)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def metrics(request: Request, credentials: Bearer) -> Response:
        """Prometheus text format, for the `DROPBELL_METRICS_TOKEN` bearer only.

        Without that setting there is nothing here (404); a missing or wrong token is 401.
        """
        expected: SecretStr | None = request.app.state.settings.metrics_token
        if expected is None:
            raise errors.NotFound()
        sent = credentials.credentials if credentials is not None else ""
        if not hmac.compare_digest(sent.encode(), expected.get_secret_value().encode()):
            raise errors.Unauthorized("GET /metrics needs the metrics token.")
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
