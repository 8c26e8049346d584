"""Sign up, log in, log out, and the profile (time zone, country, language).

Which app a session is (the rollout's platform) is the client's: the web reads it from the
browser's user agent at sign-up and log-in, and the profile does not ask.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dropbell import errors, ratelimit
from dropbell.accounts import service as accounts
from dropbell.accounts.codes import COUNTRIES, LANGUAGES
from dropbell.accounts.models import Account
from dropbell.accounts.schemas import AccountCreate, PasswordChange, ProfileUpdate
from dropbell.types import control_problem
from dropbell.web import locale, render
from dropbell.web.context import Ctx, GuestCtx
from dropbell.web.forms import Form, text_values, validate
from dropbell.web.pages import safe_next
from dropbell.web.routing import PageRoute
from dropbell.web.session import CsrfChecked, log_in, log_out, platform_from_user_agent

router = APIRouter(include_in_schema=False, route_class=PageRoute)

SIGNUP_FIELDS = ("username", "display_name", "password", "country", "language", "timezone")
PROFILE_FIELDS = ("display_name", "country", "language", "timezone")


def _choices() -> dict[str, object]:
    return {
        "countries": locale.countries(COUNTRIES),
        "languages": locale.languages(LANGUAGES),
        "timezones": locale.timezones(),
    }


def _profile_form(account: Account) -> Form:
    """The settings form as the account has it now."""
    return Form(
        values={
            "display_name": account.display_name,
            "country": account.country,
            "language": account.language,
            "timezone": account.timezone,
        }
    )


@router.get("/signup", response_class=HTMLResponse)
async def signup_page(ctx: Ctx, next: Annotated[str | None, Query()] = None) -> Response:
    if ctx.viewer is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    guess = locale.guess(ctx.request.headers.get("accept-language"))
    # The zone the device said it is in (the script's cookie), else UTC: a new account then
    # shows times as the phone does, without a hint that it is elsewhere.
    zone = render.display_zone(ctx.request, None)
    form = Form(values={"country": guess.country, "language": guess.language, "timezone": zone})
    return ctx.render("signup.html", {"form": form, "next": safe_next(next), **_choices()})


@router.post("/signup", response_class=HTMLResponse)
async def signup(_csrf: CsrfChecked, ctx: GuestCtx) -> Response:
    request = ctx.request
    data = await request.form()
    form = Form(values=text_values(data, SIGNUP_FIELDS))
    body = {k: v for k, v in form.values.items() if v or k != "display_name"}
    body["password"] = str(data.get("password") or "")
    next_url = safe_next(str(data.get("next") or ""))
    status_code, headers = 422, None
    try:  # the API's count per client address
        await ratelimit.check(request, "signup", ratelimit.client_ip(request))
    except errors.RateLimited as exc:
        form.errors[""] = exc.detail
        status_code, headers, account = exc.status, exc.headers, None
    else:
        account = validate(AccountCreate, body, form)
    if account is not None:
        try:
            platform = platform_from_user_agent(request.headers.get("user-agent"))
            async with ctx.session.begin_nested():  # the account and its session, or neither
                created = await accounts.create_account(ctx, account)
                token, _account = await accounts.issue_token(
                    ctx, created.username, account.password, platform
                )
        except errors.AppError as exc:
            form.add_error(exc)
        else:
            response = RedirectResponse(next_url, status_code=303)
            log_in(request, response, ctx.settings, token)
            return response
    form.values.pop("password", None)
    return ctx.render(
        "signup.html",
        {"form": form, "next": next_url, **_choices()},
        status_code=status_code,
        headers=headers,
    )


@router.get("/login", response_class=HTMLResponse)
async def login_page(ctx: Ctx, next: Annotated[str | None, Query()] = None) -> Response:
    if ctx.viewer is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return ctx.render("login.html", {"form": Form(), "next": safe_next(next)})


@router.post("/login", response_class=HTMLResponse)
async def login(_csrf: CsrfChecked, ctx: GuestCtx) -> Response:
    request = ctx.request
    data = await request.form()
    username = str(data.get("username") or "").strip()
    password = str(data.get("password") or "")
    next_url = safe_next(str(data.get("next") or ""))
    form = Form(values={"username": username})
    problem = control_problem(username)
    if problem is not None:  # a NUL would reach the database (the API's 422)
        form.values["username"] = ""
        form.errors["username"] = problem[:1].upper() + problem[1:] + "."
        return ctx.render("login.html", {"form": form, "next": next_url}, status_code=422)
    try:
        # The API's limits: per client address, and the back-off per username.
        await ratelimit.check(request, "token", ratelimit.client_ip(request))
        await ratelimit.check_login_backoff(request, username[:30])
    except errors.RateLimited as exc:
        form.errors[""] = exc.detail
        return ctx.render(
            "login.html", {"form": form, "next": next_url}, status_code=429, headers=exc.headers
        )
    try:
        token, _ = await accounts.issue_token(
            ctx,
            username[:30],
            password[:200],
            platform_from_user_agent(request.headers.get("user-agent")),
        )
    except errors.Unauthorized as exc:
        await ratelimit.login_failed(request, username[:30])
        form.errors[""] = exc.detail
        return ctx.render("login.html", {"form": form, "next": next_url}, status_code=401)
    await ratelimit.login_succeeded(request, username[:30])
    response = RedirectResponse(next_url, status_code=303)
    log_in(request, response, ctx.settings, token)
    return response


@router.post("/logout")
async def logout(_csrf: CsrfChecked, ctx: Ctx) -> RedirectResponse:
    if ctx.viewer is not None:
        await accounts.revoke_token(ctx, ctx.viewer.token_id)
    response = RedirectResponse("/", status_code=303)
    log_out(response, ctx.settings)
    return response


@router.post("/logout_everywhere")
async def logout_everywhere(_csrf: CsrfChecked, ctx: Ctx) -> RedirectResponse:
    """Every session and token of the account stops working, this browser's too."""
    if ctx.viewer is not None:
        await accounts.revoke_all(ctx, ctx.viewer.account.id)
    response = RedirectResponse("/", status_code=303)
    log_out(response, ctx.settings)
    return response


@router.post("/settings/password", response_class=HTMLResponse)
async def change_password(_csrf: CsrfChecked, ctx: Ctx) -> Response:
    """The profile page's password form; the account's other sessions are logged out."""
    me = ctx.need()
    request = ctx.request
    data = await request.form()
    pw_form = Form(values={"current_password": "", "new_password": ""})
    body = {k: str(data.get(k) or "") for k in ("current_password", "new_password")}
    status_code, headers = 422, None
    change = validate(PasswordChange, body, pw_form)
    if change is not None:
        try:
            await ratelimit.check_login_backoff(request, me.account.username)
            await accounts.change_password(ctx, me, change)
        except errors.WrongPassword as exc:
            await ratelimit.login_failed(request, me.account.username)
            pw_form.errors["current_password"] = exc.detail
            status_code = exc.status
        except errors.RateLimited as exc:
            pw_form.errors[""] = exc.detail
            status_code, headers = exc.status, exc.headers
        except errors.AppError as exc:
            pw_form.add_error(exc)
            status_code = exc.status
        else:
            await ratelimit.login_succeeded(request, me.account.username)
            return RedirectResponse("/settings?password_changed=1", status_code=303)
    form = _profile_form(me.account)
    return await ctx.page(
        "settings.html",
        {"form": form, "pw_form": pw_form, "saved": False, **_choices()},
        status_code=status_code,
        headers=headers,
    )


@router.get("/settings", response_class=HTMLResponse)
async def settings_page(
    ctx: Ctx,
    saved: Annotated[bool, Query()] = False,
    password_changed: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    me = ctx.need()
    form = _profile_form(me.account)
    return await ctx.page(
        "settings.html",
        {
            "form": form,
            "pw_form": Form(),
            "saved": saved,
            "password_changed": password_changed,
            **_choices(),
        },
    )


@router.post("/settings", response_class=HTMLResponse)
async def save_settings(_csrf: CsrfChecked, ctx: Ctx) -> Response:
    me = ctx.need()
    form = Form(values=text_values(await ctx.request.form(), PROFILE_FIELDS))
    profile = validate(ProfileUpdate, form.values, form)
    if profile is not None:
        try:  # a display name that looks like a partner's is refused (422)
            await accounts.update_profile(ctx.session, me, profile)
        except errors.Invalid as exc:
            form.add_error(exc)
        else:
            return RedirectResponse("/settings?saved=1", status_code=303)
    return ctx.render(
        "settings.html",
        {"form": form, "pw_form": Form(), "saved": False, **_choices()},
        status_code=422,
    )
