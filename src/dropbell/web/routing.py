"""Page routes answer errors with a page (or, for the app's fetch() calls, the API's JSON)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from dropbell import errors, i18n
from dropbell.accounts.deps import SESSION_COOKIE, token_time
from dropbell.accounts.service import viewer_for_token
from dropbell.db import transaction
from dropbell.errors import describe
from dropbell.i18n import N_, _
from dropbell.web.forms import say
from dropbell.web.render import render, request_locale

FRAGMENT_HEADER = "X-Fragment"
log = logging.getLogger(__name__)


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
                # The API's words name parameters; the page says the link is wrong.
                return page_for_error(request, failure.status, failure.code, None, None)
            except errors.AppError as exc:
                if wants_fragment(request):
                    raise
                return page_for_error(request, exc.status, exc.code, exc.detail, exc.headers)
            except StarletteHTTPException as exc:
                if wants_fragment(request) or exc.status_code >= 500:
                    raise
                return page_for_error(request, exc.status_code, "error", None, exc.headers)
            except Exception:
                # A bug: a page in the app's look for a browser (the transaction has been
                # rolled back by now); anything else gets middleware.py's 500.
                if not errors.wants_page(request):
                    raise
                log.exception("%s %s failed", request.method, request.url.path)
                return page_for_error(request, 500, "internal_error")

        return page_handler


TITLES = {
    401: N_("Please log in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Not here"),
    409: N_("Not any more"),
    422: N_("That didn't work"),
    429: N_("Slow down"),
    500: N_("Something went wrong"),
}

# What a page says when the error's own words are for developers (a path, a parameter, a
# method) or there are none: what happened, and what to do.
MESSAGES = {
    401: N_("Log in to see this page."),
    404: N_("We can't find that page. Check the link, or go back to the drops."),
    405: N_("This page can't be used that way. Go back and use its buttons and forms."),
    422: N_("This link is not right. Check it, or go back to the drops."),
    429: N_("That was a lot in a short time. Wait a minute, then try again."),
    500: N_("Something went wrong on our side. Try again in a moment."),
}


async def page_for_any_error(
    request: Request,
    status: int,
    code: str,
    message: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """``page_for_error`` for what no page route caught (an unknown path, a wrong method):
    the session cookie's viewer is looked up first, so a logged-in shopper's error page
    has their tabs, not "Log in"."""
    token = request.cookies.get(SESSION_COOKIE)
    if token and getattr(request.state, "viewer", None) is None:
        async with transaction(request.app.state.sessionmaker) as session:
            request.state.viewer = await viewer_for_token(session, token, *token_time(request))
    return page_for_error(request, status, code, message, headers)


def page_for_error(
    request: Request,
    status: int,
    code: str,
    message: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The error as a page, with the error's headers (Retry-After on a 429, say).

    ``message`` is the error's own sentence (a conflict, a rule); None, or a status whose
    own words are never for people (404, 405, 429, 500), says the page's (in the page's
    language; the error's own sentence too, when the catalogs have it: forms.SENTENCES).
    """
    viewer = getattr(request.state, "viewer", None)
    with i18n.use(request_locale(request, viewer)):
        title = _(TITLES.get(status, TITLES[500]))
        if message is None or status in (401, 404, 405, 429) or status >= 500:
            message = _(MESSAGES.get(status, MESSAGES[500]))
            wait = (headers or {}).get("Retry-After", "")
            if status == 429 and wait.isdigit():
                message = _(
                    "That was a lot in a short time. Wait %(seconds)s seconds, then try again."
                ) % {"seconds": wait}
        else:
            message = say(message)
    app = request.app
    return render(
        request,
        "error.html",
        {"title": title, "message": message, "code": code},
        viewer=viewer,
        settings=app.state.settings,
        now=app.state.clock.now(),
        status_code=status,
        headers=dict(headers or {}),
    )
