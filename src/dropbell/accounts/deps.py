"""Who is asking: FastAPI dependencies that read the bearer token (or the web app's cookie)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from dropbell import errors
from dropbell.accounts.service import Caller, Viewer, caller_for_token, viewer_for_token
from dropbell.context import Context
from dropbell.db import session_dependency
from dropbell.deps import AppClock, AppSettings
from dropbell.reminders import hotpath

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/token")

# The web app's session: the cookie holds an access token (an ``AccessToken`` row, like
# the API's bearer tokens), so logging out or revoking works the same for both.
SESSION_COOKIE = "dropbell_session"

# scope="function": the transaction commits when the endpoint returns, before the
# response is sent, so a client that got a 2xx always finds its change in the database
# (and a Remind me's row lock on the drop is not held while the response goes out).
Session = Annotated[AsyncSession, Depends(session_dependency, scope="function")]


async def get_context(session: Session, clock: AppClock, settings: AppSettings) -> Context:
    """The request's ``Context``: the session above (its transaction still the request
    dependency's), and the app's clock and settings."""
    return Context(session, clock, settings)


Ctx = Annotated[Context, Depends(get_context)]
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
# Remind me's unit of work: a connection, no ORM session (see reminders.hotpath.connection).
# A request uses one or the other, never both: it must not hold two pooled connections.
Conn = Annotated[AsyncConnection, Depends(hotpath.connection, scope="function")]


def token_time(request: Request) -> tuple[datetime, timedelta]:
    """Now, and how long a token may sit unused (DROPBELL_TOKEN_IDLE_DAYS)."""
    state = request.app.state
    return state.clock.now(), timedelta(days=state.settings.token_idle_days)


async def optional_viewer(request: Request, session: Session, credentials: Bearer) -> Viewer | None:
    """The JSON API's caller: a bearer token only (a cookie never authorises an API change)."""
    if credentials is None:
        return None
    viewer = await viewer_for_token(session, credentials.credentials, *token_time(request))
    if viewer is None:
        raise errors.Unauthorized("The access token is invalid or was revoked.")
    request.state.viewer = viewer
    return viewer


async def current_viewer(viewer: Annotated[Viewer | None, Depends(optional_viewer)]) -> Viewer:
    if viewer is None:
        raise errors.Unauthorized()
    return viewer


async def current_caller(request: Request, conn: Conn, credentials: Bearer) -> Caller:
    """The hot path's caller: a bearer token, read on the request's connection."""
    if credentials is None:
        raise errors.Unauthorized()
    caller = await caller_for_token(conn, credentials.credentials, *token_time(request))
    if caller is None:
        raise errors.Unauthorized("The access token is invalid or was revoked.")
    return caller


def request_token(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """The bearer token if one was sent, else the web session cookie."""
    if credentials is not None:
        return credentials.credentials
    return request.cookies.get(SESSION_COOKIE) or None


async def web_viewer(request: Request, session: Session, credentials: Bearer) -> Viewer | None:
    """Pages, the event stream and the shop redirect: a bearer token or the session cookie.

    A stale cookie (logged out elsewhere, revoked) just means "not logged in"; a
    bad bearer token is still a 401.
    """
    token = request_token(request, credentials)
    if token is None:
        return None
    viewer = await viewer_for_token(session, token, *token_time(request))
    if viewer is None and credentials is not None:
        raise errors.Unauthorized("The access token is invalid or was revoked.")
    request.state.viewer = viewer
    return viewer


# For routes where a token is optional: OpenAPI says "no auth, or a bearer token".
OPTIONAL_AUTH: dict[str, object] = {"security": [{}, {"HTTPBearer": []}]}


OptionalViewer = Annotated[Viewer | None, Depends(optional_viewer)]
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
CurrentCaller = Annotated[Caller, Depends(current_caller)]
WebViewer = Annotated[Viewer | None, Depends(web_viewer)]
