"""The web app's session and CSRF protection.

- The session cookie holds an access token (an ``AccessToken`` row, as the API's
  bearer tokens are), HttpOnly, SameSite=Lax; logging out revokes it.
- Every form and every fetch() that changes something carries a CSRF token, sent
  back in the ``csrf_token`` field or the ``X-CSRF-Token`` header. With a session it
  is tied to it: an HMAC of the session's own (secret, HttpOnly) token, so a token
  from another session, or from before log-in, is refused. Before log-in (the log-in
  and sign-up forms) it is the ``dropbell_csrf`` cookie's random value (double-submit).
  Requests a browser marks as cross-site (``Sec-Fetch-Site``), or whose ``Origin`` is
  another site or ``null`` (sandboxed frames, ``data:`` pages), are refused as well.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response

from dropbell import errors
from dropbell.accounts.deps import SESSION_COOKIE
from dropbell.config import Settings

CSRF_COOKIE = "dropbell_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_DAYS = 30


class CsrfFailed(errors.Forbidden):
    code, message = "csrf_failed", "This form has expired. Reload the page and try again."


def platform_from_user_agent(user_agent: str | None) -> str:
    """The client app a browser stands for: iPhone/iPad Safari is ``ios``, Android ``android``."""
    ua = (user_agent or "").lower()
    if "android" in ua:
        return "android"
    if any(device in ua for device in ("iphone", "ipad", "ipod")):
        return "ios"
    return "web"


def session_csrf(session_token: str) -> str:
    """The CSRF token of the web session ``session_token``: an HMAC keyed by its secret."""
    return hmac.new(session_token.encode(), b"dropbell-csrf", hashlib.sha256).hexdigest()


def _expected_csrf(request: Request) -> str | None:
    """The CSRF token this request must carry: its session's, else the cookie's."""
    session_token = request.cookies.get(SESSION_COOKIE)
    if session_token:
        return session_csrf(session_token)
    return request.cookies.get(CSRF_COOKIE) or None


def csrf_token(request: Request) -> str:
    """This browser's CSRF token (made on first use, set as a cookie by :func:`remember_csrf`)."""
    token: str | None = getattr(request.state, "csrf_token", None)
    if token is None:
        token = _expected_csrf(request) or secrets.token_urlsafe(24)
        request.state.csrf_token = token
    return token


def remember_csrf(request: Request, response: Response, settings: Settings) -> None:
    token = getattr(request.state, "csrf_token", None)
    if token is not None and token != request.cookies.get(CSRF_COOKIE):
        response.set_cookie(
            CSRF_COOKIE,
            token,
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
            path="/",
        )


def _same_site(request: Request) -> bool:
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is not None:
        if origin.strip().lower() == "null":  # an opaque origin: never same-site
            return False
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            return False
    return True


async def check_csrf(request: Request) -> None:
    """A dependency for every page route that changes something (POST)."""
    expected = _expected_csrf(request)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not secrets.compare_digest(expected, sent):
        raise CsrfFailed()
    if not _same_site(request):
        raise CsrfFailed("Cross-site requests are not accepted.")


CsrfChecked = Annotated[None, Depends(check_csrf)]


def log_in(request: Request, response: Response, settings: Settings, token: str) -> None:
    """Hold the new session's token in the cookie, and the CSRF token tied to it."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_DAYS * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    request.state.csrf_token = session_csrf(token)
    remember_csrf(request, response, settings)


def log_out(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=settings.secure_cookies, path="/"
    )
