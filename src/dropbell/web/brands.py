"""A brand's page (``/@username``): who it is, its upcoming and earlier drops, and the
Follow / Following button (a form POST: it works without the script)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path
from fastapi.responses import HTMLResponse, RedirectResponse

from dropbell.accounts.service import Viewer, caller_of
from dropbell.brands import service as brands
from dropbell.brands.schemas import AccountPage
from dropbell.context import Context
from dropbell.drops import service as drops
from dropbell.drops.rollout import ineligible_reason
from dropbell.drops.schemas import DropOut
from dropbell.web.context import Ctx
from dropbell.web.pages import safe_next
from dropbell.web.routing import PageRoute
from dropbell.web.session import CsrfChecked

router = APIRouter(include_in_schema=False, route_class=PageRoute)

Username = Annotated[str, Path(max_length=64)]


@dataclass
class BrandPage:
    brand: AccountPage  # its upcoming drops as the viewer sees them
    past: list[DropOut]
    reason: str | None  # why the viewer cannot tap Remind me (outside the rollout)
    can_follow: bool  # a partner brand, and not the viewer's own account


async def brand_view(ctx: Context, viewer: Viewer | None, username: str) -> BrandPage:
    page = await brands.account_page(ctx, viewer, username)
    past = await brands.past_drops(ctx, page.id)
    own = viewer is not None and viewer.account.id == page.id
    return BrandPage(
        brand=page,
        past=await drops.present(ctx, past, viewer),
        reason=ineligible_reason(ctx.settings, caller_of(viewer)),
        can_follow=page.is_partner and not own,
    )


@router.get("/@{username}", response_class=HTMLResponse)
async def brand_page(username: Username, ctx: Ctx) -> HTMLResponse:
    page = await brand_view(ctx, ctx.viewer, username)
    return await ctx.page("brand.html", {"page": page, "source": "drop"})


@router.post("/@{username}/{action}")
async def follow(
    username: Username,
    action: Literal["follow", "unfollow"],
    _csrf: CsrfChecked,
    ctx: Ctx,
    next: Annotated[str | None, Form()] = None,
) -> RedirectResponse:
    """Follow / Following: the API's toggle; back to the page it was tapped on."""
    me = ctx.need()
    brand = await brands.get_by_username(ctx.session, username)
    if action == "follow":
        await brands.follow(ctx, me, brand.id)
    else:
        await brands.unfollow(ctx, me, brand.id)
    return RedirectResponse(safe_next(next, f"/@{brand.username}"), status_code=303)
