from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from dropbell.accounts.deps import OPTIONAL_AUTH, Ctx, OptionalViewer
from dropbell.search import service
from dropbell.search.schemas import MAX_QUERY_LENGTH, SearchOut

router = APIRouter(prefix="/api/v1", tags=["search"])

MAX_LIMIT = 40


@router.get("/search", response_model=SearchOut, openapi_extra=OPTIONAL_AUTH)
async def search(
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY_LENGTH,
            description="Words to find (accents, case and Arabic diacritics do not matter:"
            " `cafe` finds “Café”); one word also finds hashtags starting with it"
            " (`#` optional).",
            examples=["sneaker"],
        ),
    ],
    viewer: OptionalViewer,
    ctx: Ctx,
    limit: Annotated[
        int,
        Query(ge=1, le=MAX_LIMIT, description=f"At most this many of each kind (≤ {MAX_LIMIT})."),
    ] = 10,
) -> SearchOut:
    """Drops, posts, partner brands and hashtags for `q`, each list best first: what
    carries `q` as its exact tag first. 422 `invalid` for an empty `q`, one of more than
    100 characters, or one without a letter or digit."""
    return await service.search(ctx, viewer, q, limit)
