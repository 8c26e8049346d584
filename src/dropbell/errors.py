"""One error family: every error a client can see has an HTTP status and a machine code.

Handlers turn them (and FastAPI's own validation errors, unknown paths and wrong methods)
into ``{"error": "<human message>", "code": "<machine_code>"}``; a browser asking
for a page outside ``/api/`` gets the web app's error page instead (``install_handlers``'s
``page``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException


class ErrorBody(BaseModel):
    error: str
    code: str


class AppError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    message: ClassVar[str] = "Bad request."

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None):
        self.detail = message or self.message
        self.headers = headers
        super().__init__(self.detail)


class BadRequest(AppError):
    status, code, message = 400, "bad_request", "Bad request."


class Invalid(AppError):
    status, code, message = 422, "invalid", "The request is not valid."


class InvalidOffset(Invalid):
    code = "invalid_offset"


class CannotFollowSelf(Invalid):
    code, message = "cannot_follow_self", "You cannot follow yourself."


class NotABrand(Invalid):
    code, message = (
        "not_a_brand",
        "Only partner brands can be followed; this account is not one.",
    )


class Unauthorized(AppError):
    status, code, message = 401, "unauthorized", "A valid access token is required."


class Forbidden(AppError):
    status, code, message = 403, "forbidden", "You are not allowed to do that."


class NotPartner(Forbidden):
    code, message = "not_partner", "Only approved partner brands can do that."


class NotOwner(Forbidden):
    code, message = "not_owner", "Only the brand that owns this drop can do that."


class NotEligible(Forbidden):
    code, message = "not_eligible", "Remind me is not available for your account yet."


class NotAuthor(Forbidden):
    code, message = "not_author", "Only the author of this post can do that."


class WrongPassword(Forbidden):
    code, message = "wrong_password", "The current password is not right."


class PayloadTooLarge(AppError):
    status, code, message = 413, "payload_too_large", "The request body is too large."


class UnsupportedImage(AppError):
    status, code, message = (
        415,
        "unsupported_media_type",
        "This file is not a JPEG, PNG or WebP image; upload one of those.",
    )


class InvalidImage(Invalid):
    code, message = (
        "invalid_image",
        "The image could not be read: the file is damaged or incomplete.",
    )


class NotFound(AppError):
    status, code, message = 404, "not_found", "Not found."


class Conflict(AppError):
    status, code, message = 409, "conflict", "That conflicts with the current state."


class DropLive(Conflict):
    code, message = "drop_live", "This drop has already launched."


class DropCancelled(Conflict):
    code, message = "drop_cancelled", "This drop was cancelled."


class DropPost(Conflict):
    code, message = (
        "drop_post",
        "This post announces a drop; it goes with the drop and cannot be deleted on its own.",
    )


class UsernameTaken(Conflict):
    code, message = "username_taken", "That username is taken."


class TagTaken(Conflict):
    code, message = "tag_taken", "Another drop already uses that hashtag."


class TagConfusable(TagTaken):
    code, message = "tag_confusable", "That hashtag looks like another drop's."


class RateLimited(AppError):
    status, code, message = 429, "rate_limited", "Too many requests; slow down."


def error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, "code": code, **extra}, status_code=status)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


PageRenderer = Callable[
    [Request, int, str, str | None, Mapping[str, str] | None], Awaitable[Response]
]
"""``page(request, status, code, message, headers)``: an error as a web page (``message``
None: the page's own words for the status)."""


def wants_page(request: Request) -> bool:
    """A browser asking for a page: not the API nor the machines' paths (their errors stay
    JSON), not the web app's own fetch() calls (``X-Fragment``), and HTML accepted."""
    path = request.url.path
    if path.startswith("/api/") or path in ("/healthz", "/metrics"):
        return False
    if "x-fragment" in request.headers:
        return False
    return "text/html" in request.headers.get("accept", "")


def _describe(errors: list[dict[str, Any]]) -> str:
    parts = []
    for err in errors[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg")))
    return "; ".join(parts) or "The request is not valid."


def describe(exc: RequestValidationError) -> str:
    """A validation error in one line, as the API's 422 says it."""
    return _describe([dict(e) for e in exc.errors()])


def install_handlers(app: FastAPI, page: PageRenderer | None = None) -> None:
    """The JSON error handlers; with ``page``, pages (``wants_page``) get HTML instead."""

    def as_page(request: Request) -> PageRenderer | None:
        return page if page is not None and wants_page(request) else None

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        if render := as_page(request):
            return await render(request, exc.status, exc.code, exc.detail, exc.headers)
        response = error_response(exc.status, exc.code, exc.detail)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        if render := as_page(request):  # a link with a bad id names no page: 404
            bad_path = any(e.get("loc", ("",))[0] == "path" for e in exc.errors())
            return await render(request, 404 if bad_path else 422, "invalid", None, None)
        # Bytes that are not JSON at all are a bad request (400); JSON of the wrong shape
        # is what 422 is for.
        for e in exc.errors():
            if e.get("type") == "json_invalid":
                why = str((e.get("ctx") or {}).get("error") or "").rstrip(".")
                where = e.get("loc", ("body", None))[-1]
                at = f" at character {where}" if isinstance(where, int) else ""
                detail = f" ({why}{at})" if why else ""
                return error_response(
                    400, "bad_request", f"The request body is not valid JSON{detail}."
                )
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return error_response(422, "invalid", _describe(errors), details=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # pages are not in the schema: Starlette's own list
            headers["Allow"] = ", ".join(_allowed_methods(request)) or headers.get("Allow", "")
        if render := as_page(request):
            return await render(request, exc.status_code, code, None, headers)
        message = exc.detail if isinstance(exc.detail, str) else code
        response = error_response(exc.status_code, code, message)
        response.headers.update(headers)
        return response


def _allowed_methods(request: Request) -> list[str]:
    """Every method the API serves at this path, from the OpenAPI schema.

    (Starlette names only the first matching route's methods, and GET and POST of one
    path are separate routes here.)
    """
    patterns: list[tuple[re.Pattern[str], list[str]]] | None = getattr(
        request.app.state, "allow_patterns", None
    )
    if patterns is None:
        patterns = [
            (
                re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path)) + "$"),
                [m.upper() for m in operations if m != "parameters"],
            )
            for path, operations in request.app.openapi()["paths"].items()
        ]
        request.app.state.allow_patterns = patterns
    return sorted({m for rx, methods in patterns if rx.match(request.url.path) for m in methods})


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": code}
    for status, code in _HTTP_CODES.items()
    if status in (400, 401, 403, 404, 409, 413, 422, 429)
}
