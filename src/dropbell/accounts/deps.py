"""Who is asking: FastAPI dependencies that read the bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from dropbell import errors
from dropbell.accounts.service import Viewer, viewer_for_token
from dropbell.db import session_dependency

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/token")

# scope="function": the transaction commits when the endpoint returns, before the
# response is sent, so a client that got a 2xx always finds its change in the database
# (and a Remind me's row lock on the drop is not held while the response goes out).
Session = Annotated[AsyncSession, Depends(session_dependency, scope="function")]


async def optional_viewer(
    request: Request,
    session: Session,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Viewer | None:
    if credentials is None:
        return None
    viewer = await viewer_for_token(session, credentials.credentials)
    if viewer is None:
        raise errors.Unauthorized("The access token is invalid or was revoked.")
    request.state.viewer = viewer
    return viewer


async def current_viewer(viewer: Annotated[Viewer | None, Depends(optional_viewer)]) -> Viewer:
    if viewer is None:
        raise errors.Unauthorized()
    return viewer


OptionalViewer = Annotated[Viewer | None, Depends(optional_viewer)]
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
