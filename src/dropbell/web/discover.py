"""Finding drops: the Upcoming page (soonest launch first) and search (the header's box
and its results page)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from dropbell import errors
from dropbell.accounts.service import Viewer, caller_of
from dropbell.context import Context
from dropbell.drops import service as drops
from dropbell.drops.rollout import ineligible_reason
from dropbell.drops.schemas import DropOut
from dropbell.drops.upcoming import upcoming
from dropbell.i18n import _
from dropbell.search import service as search
from dropbell.search.schemas import MAX_QUERY_LENGTH, SearchOut
from dropbell.types import MAX_ID
from dropbell.web.context import Ctx
from dropbell.web.pagedata import PAGE_SIZE
from dropbell.web.routing import PageRoute

router = APIRouter(include_in_schema=False, route_class=PageRoute)
SEARCH_LIMIT = 10


@dataclass
class Upcoming:
    drops: list[DropOut]
    reason: str | None
    next_after: int | None


@dataclass
class Results:
    q: str
    found: SearchOut | None = None
    error: str | None = None
    reason: str | None = None
    total: int = 0


async def upcoming_view(ctx: Context, viewer: Viewer | None, after: int | None) -> Upcoming:
    rows, more = await upcoming(ctx, PAGE_SIZE, after)
    return Upcoming(
        drops=await drops.present(ctx, rows, viewer),
        reason=ineligible_reason(ctx.settings, caller_of(viewer)),
        next_after=rows[-1].id if more and rows else None,
    )


async def results_view(ctx: Context, viewer: Viewer | None, q: str) -> Results:
    """What ``q`` finds; nothing asked yet (no ``q``) is an empty page, not an error."""
    results = Results(q=q, reason=ineligible_reason(ctx.settings, caller_of(viewer)))
    if not q.strip():
        return results
    try:
        results.found = await search.search(ctx, viewer, q, SEARCH_LIMIT)
    except errors.Invalid:
        too_long = _("Search for at most %(num)d characters.") % {"num": MAX_QUERY_LENGTH}
        results.error = (
            too_long
            if len(q.strip()) > MAX_QUERY_LENGTH
            else _("Search for a word: letters or digits.")
        )
        return results
    found = results.found
    results.total = len(found.drops) + len(found.posts) + len(found.accounts)
    results.total += len(found.hashtags)
    return results


@router.get("/upcoming", response_class=HTMLResponse)
async def upcoming_page(
    ctx: Ctx, after: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
) -> HTMLResponse:
    """Drops still to launch, soonest first, with Remind me."""
    page = await upcoming_view(ctx, ctx.viewer, after)
    return await ctx.page("upcoming.html", {"page": page, "source": "drop"})


@router.get("/search", response_class=HTMLResponse)
async def search_page(ctx: Ctx, q: Annotated[str, Query(max_length=1000)] = "") -> HTMLResponse:
    """What the header's search box finds: drops, brands, hashtags and posts."""
    results = await results_view(ctx, ctx.viewer, q)
    status = 422 if results.error else 200
    return await ctx.page(
        "search.html", {"results": results, "q": q, "source": "drop"}, status_code=status
    )
