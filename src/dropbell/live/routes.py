"""``GET /api/v1/streaming/notifications``: a shopper's live notifications (server-sent events)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from dropbell import errors
from dropbell.accounts.deps import Bearer, request_token, token_time
from dropbell.accounts.service import viewer_for_token
from dropbell.db import transaction
from dropbell.live.hub import Hub
from dropbell.types import MAX_ID


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


router = APIRouter(prefix="/api/v1/streaming", tags=["notifications"])


@router.get(
    "/notifications",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An event stream."}},
)
async def stream_notifications(
    request: Request,
    credentials: Bearer,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """Live notifications (server-sent events).

    `notification` events carry a Notification (as the list returns it) with
    `id:` = its id; `unread_count` events carry `{count}`. A comment line is sent
    every 15 s to keep the connection open. Reconnect with `Last-Event-ID` to
    get what was missed first (a `Last-Event-ID` that is not a notification id is
    ignored: the stream starts from now). Authenticated by bearer token or the web session; the
    stream ends when that token is revoked (log out). At most
    `DROPBELL_MAX_STREAMS_PER_ACCOUNT` streams per account and process, then 429.
    """
    hub = hub_of(request)
    token = request_token(request, credentials)
    resume = _parse_last_id(last_event_id or request.query_params.get("last_event_id"))
    # No request-long session: an open stream must not hold a database connection.
    async with transaction(hub.sessionmaker) as session:
        viewer = await viewer_for_token(session, token, *token_time(request)) if token else None
        if viewer is None:
            raise errors.Unauthorized()
        sub = hub.subscribe(viewer)
        try:
            first, sent = await hub.opening(session, sub, resume)
        except BaseException:
            hub.unsubscribe(sub)
            raise
    return StreamingResponse(
        hub.events(sub, first, sent),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _parse_last_id(value: str | None) -> int | None:
    """The id to resume after, or None (stream from now) for anything that is not an id
    (``abc``, ``-1``, past 64 bits): a browser resends whatever it was last sent, so a bad
    one must never lock its reconnections out."""
    text = (value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    last_id = int(text)
    return last_id if last_id <= MAX_ID else None
