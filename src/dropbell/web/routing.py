"""Page routes answer errors with a page (or, for the app's fetch() calls, the API's JSON)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from dropbell import errors
from dropbell.errors import describe
from dropbell.web.render import render

FRAGMENT_HEADER = "X-Fragment"


class LoginRequired(Exception):
    """Raised by a page that needs a logged-in shopper: off to the log-in page and back."""


def wants_fragment(request: Request) -> bool:
    return FRAGMENT_HEADER.lower() in request.headers


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                if wants_fragment(request):
                    raise errors.Unauthorized("Log in first.") from None
                back = quote(request.url.path, safe="/")
                return RedirectResponse(f"/login?next={back}", status_code=303)
            except RequestValidationError as exc:
                # A path that names nothing that can exist (an id past 64 bits, 0) is a
                # page that is not there; other bad input (a query past the id bounds,
                # a control character) is a 422 page that says what was wrong.
                if any(e.get("loc", ("",))[0] == "path" for e in exc.errors()):
                    failure: errors.AppError = errors.NotFound()
                else:
                    failure = errors.Invalid(describe(exc))
                if wants_fragment(request):
                    raise failure from None
                return error_page(request, failure.status, failure.detail, failure.code)
            except errors.AppError as exc:
                if wants_fragment(request):
                    raise
                return error_page(request, exc.status, exc.detail, exc.code, exc.headers)
            except StarletteHTTPException as exc:
                if wants_fragment(request) or exc.status_code >= 500:
                    raise
                detail = exc.detail if isinstance(exc.detail, str) else "Something went wrong."
                return error_page(request, exc.status_code, detail, "error", exc.headers)

        return page_handler


TITLES = {
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    409: "Not any more",
    422: "That didn't work",
    429: "Slow down",
}


def error_page(
    request: Request,
    status: int,
    message: str,
    code: str,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The error as a page, with the error's headers (Retry-After on a 429, say)."""
    app = request.app
    viewer = getattr(request.state, "viewer", None)
    return render(
        request,
        "error.html",
        {"title": TITLES.get(status, "Something went wrong"), "message": message, "code": code},
        viewer=viewer,
        settings=app.state.settings,
        now=app.state.clock.now(),
        status_code=status,
        headers=dict(headers or {}),
    )
