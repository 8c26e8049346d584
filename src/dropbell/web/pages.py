"""What shoppers see: the timeline, posts, a drop's page, Remind me, notifications, tag pages,
and the language switcher."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dropbell import counting, errors, i18n, ratelimit
from dropbell.accounts import service as accounts
from dropbell.drops import service as drops
from dropbell.drops.rollout import ineligible_reason
from dropbell.notifications import service as notifications
from dropbell.notifications.models import Notification
from dropbell.posts import presenter as post_presenter
from dropbell.posts import service as posts
from dropbell.posts.schemas import PostCreate, PostOut
from dropbell.posts.service import PostAction
from dropbell.reminders import hotpath
from dropbell.types import MAX_ID, IdPath
from dropbell.web import pagedata
from dropbell.web.context import Ctx, PageContext
from dropbell.web.forms import Form as FormState
from dropbell.web.forms import chosen_leads, validate
from dropbell.web.routing import PageRoute, wants_fragment
from dropbell.web.session import CsrfChecked

router = APIRouter(include_in_schema=False, route_class=PageRoute)

Variant = Literal["card", "page"]
Source = Literal["post", "tag", "drop", "notification", "push"]


def safe_next(value: str | None, default: str = "/") -> str:
    """Only a local path: never an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


@router.get("/", response_class=HTMLResponse)
async def home(
    ctx: Ctx, max_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
) -> HTMLResponse:
    page = await pagedata.timeline(ctx, ctx.viewer, max_id)
    return await ctx.page("home.html", {"page": page, "form": FormState(), "source": "post"})


@router.get("/drops/{drop_id}", response_class=HTMLResponse)
async def drop_page(
    drop_id: IdPath,
    ctx: Ctx,
    via: Annotated[Source, Query()] = "drop",
    source: Annotated[Source | None, Query(description="Where the visit came from.")] = None,
) -> HTMLResponse:
    """The drop. ``source`` (a push's link: ``?source=push``) or ``via`` says where the
    shopper came from: the visit is counted there (once per visitor and source), and so is
    the Shop on website button's click."""
    who = counting.viewer_key(ctx.request, ctx.viewer)
    page = await pagedata.drop_page_with_posts(ctx, ctx.viewer, drop_id, source or via, who)
    return await ctx.page("drop.html", {"page": page})


@router.get("/drops/{drop_id}/card", response_class=HTMLResponse)
async def drop_card(
    drop_id: IdPath,
    ctx: Ctx,
    variant: Annotated[Variant, Query()] = "card",
    source: Annotated[Source, Query()] = "post",
) -> HTMLResponse:
    """The drop card alone, for the live updates (countdown over, a notification came)."""
    page = await pagedata.drop_page(ctx, ctx.viewer, drop_id, source)
    return ctx.render(
        "_drop_card.html",
        {"drop": page.drop, "reason": page.reason, "variant": variant, "source": source},
    )


@router.post("/drops/{drop_id}/{action}", response_class=HTMLResponse)
async def remind(
    drop_id: IdPath,
    action: Literal["remind", "unremind"],
    _csrf: CsrfChecked,
    ctx: Ctx,
    variant: Annotated[Variant, Form()] = "card",
    source: Annotated[Source, Form()] = "post",
    next: Annotated[str | None, Form()] = None,
    leads: Annotated[str | None, Form()] = None,
    offsets: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """The Remind me / Reminder set toggle, and the drop page's choice of when to be told
    (``leads`` marks the picker: its ticked ``offsets``, none ticked is the launch notice
    only; without it, the default lead). Answers with the new card (fetch) or a redirect."""
    me = ctx.need()
    on = action == "remind"
    chosen = chosen_leads(ctx.settings, leads, offsets) if on else None
    await ratelimit.check_account(ctx.request, "remind", me.account.id)  # the API's count
    # The API's statements, on the page's session's connection (docs/architecture.md).
    conn, caller = await ctx.session.connection(), me.caller
    if on:
        toggled = await hotpath.remind(conn, ctx.clock, ctx.settings, caller, drop_id, chosen)
    else:
        toggled = await hotpath.unremind(conn, ctx.clock, caller, drop_id)
    drop = drops.present_toggled(ctx.clock, ctx.settings, caller, toggled)
    if not wants_fragment(ctx.request):
        return RedirectResponse(safe_next(next, f"/drops/{drop_id}"), status_code=303)
    return ctx.render(
        "_drop_card.html", {"drop": drop, "reason": None, "variant": variant, "source": source}
    )


@router.get("/reminders", response_class=HTMLResponse)
async def reminders_page(ctx: Ctx) -> HTMLResponse:
    """My reminders: the caller's reminders on drops still to come, soonest launch first."""
    items = await pagedata.my_reminders(ctx, ctx.need())
    return await ctx.page("reminders.html", {"items": items})


@router.get("/notifications", response_class=HTMLResponse)
async def notifications_page(
    ctx: Ctx, max_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
) -> HTMLResponse:
    inbox = await pagedata.inbox(ctx, ctx.need(), max_id)
    return await ctx.page("notifications.html", {"inbox": inbox})


@router.get("/notifications/{notification_id}/row", response_class=HTMLResponse)
async def notification_row(notification_id: IdPath, ctx: Ctx) -> HTMLResponse:
    """One notification, for the live list."""
    me = ctx.need()
    item = await pagedata.one_notification(ctx, me, notification_id)
    return ctx.render("_notification.html", {"n": item})


@router.post("/notifications/{notification_id}/open")
async def open_notification(
    notification_id: IdPath, _csrf: CsrfChecked, ctx: Ctx
) -> RedirectResponse:
    """Opening a notification marks it read (counted as opened in the brand's funnel) and
    opens its drop."""
    item = await notifications.mark_read(ctx, ctx.need(), notification_id)
    return RedirectResponse(_about(item.row), status_code=303)


def _about(notification: Notification) -> str:
    """The page a notification is about."""
    if notification.drop_id is not None:
        return f"/drops/{notification.drop_id}?via=notification"
    if notification.post_id is not None:
        return f"/posts/{notification.post_id}"
    return "/notifications"


@router.post("/notifications/read_all")
async def read_all(_csrf: CsrfChecked, ctx: Ctx) -> RedirectResponse:
    await notifications.mark_all_read(ctx, ctx.need())
    return RedirectResponse("/notifications", status_code=303)


# -- posts ------------------------------------------------------------------------


@router.get("/compose", response_class=HTMLResponse)
async def compose_page(ctx: Ctx) -> HTMLResponse:
    ctx.need()
    return await ctx.page("compose.html", {"form": FormState()})


@router.post("/compose", response_class=HTMLResponse)
async def compose(
    _csrf: CsrfChecked,
    ctx: Ctx,
    text: Annotated[str, Form()] = "",
    next: Annotated[str | None, Form()] = None,
) -> Response:
    """Publish a post; on bad input the form comes back with the error beside the field.
    Posting is rate limited per account, counted with the API's (the text is kept)."""
    me = ctx.need()
    form = FormState(values={"text": text})
    data = validate(PostCreate, {"text": text}, form)
    status_code, headers = 422, None
    if data is not None:
        try:
            await ratelimit.check_account(ctx.request, "post", me.account.id)
        except errors.RateLimited as exc:
            form.add_error(exc)
            status_code, headers = exc.status, exc.headers
        else:
            await posts.create_post(ctx, me, data)
            return RedirectResponse(safe_next(next, "/"), status_code=303)
    return await ctx.page("compose.html", {"form": form}, status_code=status_code, headers=headers)


@router.get("/posts/{post_id}", response_class=HTMLResponse)
async def post_page(
    post_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    ctx: Ctx,
    shared: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    """One post: what a shared link opens."""
    found = await posts.get_post(ctx.session, post_id)
    post = await post_presenter.present_one(ctx, found, ctx.viewer)
    reason = ineligible_reason(ctx.settings, accounts.caller_of(ctx.viewer))
    return await ctx.page(
        "post.html", {"p": post, "shared": shared, "reason": reason, "source": "post"}
    )


@router.post("/posts/{post_id}/share", response_class=HTMLResponse)
async def share(
    post_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    _csrf: CsrfChecked,
    ctx: Ctx,
    next: Annotated[str | None, Form()] = None,
) -> Response:
    """Count a share. The script copies the link and gets the new action bar; without the
    script the post's own page opens, with its link to copy."""
    who = counting.viewer_key(ctx.request, ctx.viewer)
    await posts.share(ctx, ctx.viewer, post_id, who)
    original = await posts.get_original(ctx.session, post_id)  # its counters as _bump left them
    post = await post_presenter.present_one(ctx, original, ctx.viewer)
    if not wants_fragment(ctx.request):
        return RedirectResponse(f"/posts/{post.id}?shared=1", status_code=303)
    return _actions(ctx, post, next)


@router.post("/posts/{post_id}/{action}", response_class=HTMLResponse)
async def post_toggle(
    post_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    action: PostAction,
    _csrf: CsrfChecked,
    ctx: Ctx,
    next: Annotated[str | None, Form()] = None,
) -> Response:
    """Like, repost, bookmark and their undoing. Answers with the post's new action bar
    (fetch) or a redirect back."""
    me = ctx.need()
    # A repost's id acts on the original, and the original is what comes back.
    toggled = await posts.toggle(ctx, me, post_id, action)
    post = await post_presenter.present_one(ctx, toggled, me)
    if not wants_fragment(ctx.request):
        return RedirectResponse(safe_next(next, f"/posts/{post.id}"), status_code=303)
    return _actions(ctx, post, next)


def _actions(ctx: PageContext, post: PostOut, next: str | None) -> HTMLResponse:
    return ctx.render("_post_actions.html", {"o": post, "path": safe_next(next, "/")})


@router.get("/tags/{tag}", response_class=HTMLResponse)
async def tag_page(
    tag: str, ctx: Ctx, max_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
) -> HTMLResponse:
    """The drop that owns the tag (with Remind me) and the posts that carry it."""
    page = await pagedata.tag_view(ctx, ctx.viewer, tag, max_id)
    return await ctx.page("tag.html", {"page": page, "source": "tag"})


@router.get("/bookmarks", response_class=HTMLResponse)
async def bookmarks_page(
    ctx: Ctx, max_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
) -> HTMLResponse:
    page = await pagedata.bookmarks(ctx, ctx.need(), max_id)
    return await ctx.page("bookmarks.html", {"page": page, "source": "post"})


# -- the language switcher ----------------------------------------------------------

LANGUAGE_COOKIE_DAYS = 365


@router.post("/language")
async def switch_language(
    _csrf: CsrfChecked,
    ctx: Ctx,
    language: Annotated[str, Form()] = "",
    next: Annotated[str | None, Form()] = None,
) -> RedirectResponse:
    """Speak ``language`` (en, ar, fr, es; anything else is English) from now on, and open
    ``next`` again in it. A logged-in shopper's choice is the account's language (every
    device, and their notifications); a visitor's is a cookie on this browser."""
    chosen = i18n.supported(language) or i18n.DEFAULT
    response = RedirectResponse(safe_next(next), status_code=303)
    if ctx.viewer is not None:
        await accounts.set_language(ctx.session, ctx.viewer, chosen)
        response.delete_cookie(i18n.COOKIE, path="/")  # the account's choice is the one
    else:
        response.set_cookie(
            i18n.COOKIE,
            chosen,
            max_age=LANGUAGE_COOKIE_DAYS * 86400,
            samesite="lax",
            secure=ctx.settings.secure_cookies,
            path="/",
        )
    return response
