"""ASGI middleware: a cap on request bodies, and security headers on every response (a
500 too)."""

from __future__ import annotations

import html
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Pages: our own scripts, styles and images only; never framed. Swagger UI (/docs) needs
# its inline bootstrap script, so it gets a looser policy of its own.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")


class BodyLimitMiddleware:
    """413 for a body over ``max_bytes``: by Content-Length up front, or while streaming.

    Paths starting with one of ``uploads`` (image uploads) may send up to
    ``upload_bytes``, and are told ``upload_message`` past it; a page's form (not the
    API) gets it as a short page."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        *,
        uploads: tuple[str, ...] = (),
        upload_bytes: int = 0,
        upload_message: str = "",
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.uploads = uploads
        self.upload_bytes = upload_bytes
        self.upload_message = upload_message

    def _limit(self, path: str) -> tuple[int, str]:
        if self.uploads and path.startswith(self.uploads):
            return self.upload_bytes, self.upload_message
        return self.max_bytes, f"The request body is over {self.max_bytes} bytes."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        max_bytes, message = self._limit(path)
        page = not path.startswith("/api/")
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_large = int(value) > max_bytes
                except ValueError:
                    too_large = False
                if too_large:
                    await _reject(send, message, page)
                    return
        seen = 0
        too_large = False

        async def limited_receive() -> Message:
            # Past the limit the app gets an empty end of body (so it stops reading),
            # and whatever it answers is replaced by the 413 below.
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    too_large = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def guarded_send(event: Message) -> None:
            if not too_large:
                await send(event)
            elif event["type"] == "http.response.start":
                await _reject(send, message, page)

        await self.app(scope, limited_receive, guarded_send)


async def _reject(send: Send, message: str, page: bool) -> None:
    """The 413: the API's error shape, or (``page``) a page that says it in a sentence."""
    if page:
        body = _TOO_LARGE_PAGE.replace(b"{message}", html.escape(message).encode())
        kind = b"text/html; charset=utf-8"
    else:
        body = json.dumps({"error": message, "code": "payload_too_large"}).encode()
        kind = b"application/json"
    await _send_whole(send, 413, kind, body, (b"connection", b"close"))


async def _send_whole(
    send: Send, status: int, kind: bytes, body: bytes, header: tuple[bytes, bytes]
) -> None:
    """A response written by the middleware itself, in one piece: its content type and
    length, and one more header (``header``)."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", kind),
                (b"content-length", str(len(body)).encode()),
                header,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityHeadersMiddleware:
    """nosniff, a referrer policy and no framing everywhere; a CSP on HTML pages; HSTS when
    the public URL is https. An unhandled exception gets its 500 here, with the same
    headers (Starlette's own 500 is sent outside every middleware, bare)."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        started = False

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"strict-origin-when-cross-origin"),
                    (b"x-frame-options", b"DENY"),
                ]
                if self.hsts:
                    extra.append((b"strict-transport-security", HSTS.encode()))
                is_html = any(
                    n.lower() == b"content-type" and v.startswith(b"text/html") for n, v in headers
                )
                if is_html:
                    csp = DOCS_CSP if path.startswith(DOCS_PATHS) else PAGE_CSP
                    extra.append((b"content-security-policy", csp.encode()))
                headers += [(n, v) for n, v in extra if n not in names]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except Exception:
            if not started:
                await _server_error(path, with_headers)
            raise  # still logged by the server (its 500 is not sent twice)


HSTS = "max-age=31536000"
_ERROR_JSON = json.dumps(
    {"error": "Something went wrong on our side.", "code": "internal_error"}
).encode()
_ERROR_PAGE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Something went wrong'
    b' \xc2\xb7 dropbell</title><link rel="stylesheet" href="/static/app.css"></head><body>'
    b"<main><h1>Something went wrong</h1><p>That is our fault, not yours. Please try again"
    b' in a moment.</p><p><a href="/">Back to dropbell</a></p></main></body></html>'
)


_TOO_LARGE_PAGE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Too large'
    b' \xc2\xb7 dropbell</title><link rel="stylesheet" href="/static/app.css"></head><body>'
    b"<main><h1>That is too large</h1><p>{message}</p><p>Go back to the form and choose"
    b' another file.</p><p><a href="/">Back to dropbell</a></p></main></body></html>'
)


async def _server_error(path: str, send: Send) -> None:
    """The 500 an unhandled exception gets: the API's error shape, or a page for pages."""
    api = path.startswith("/api/") or path in ("/healthz", "/metrics")
    body, kind = (
        (_ERROR_JSON, b"application/json") if api else (_ERROR_PAGE, b"text/html; charset=utf-8")
    )
    await _send_whole(send, 500, kind, body, (b"cache-control", b"no-store"))
