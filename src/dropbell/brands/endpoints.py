from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from dropbell.accounts.deps import OPTIONAL_AUTH, Ctx, CurrentViewer, OptionalViewer
from dropbell.brands import service
from dropbell.brands.schemas import AccountPage, FollowOut
from dropbell.types import IdPath

router = APIRouter(prefix="/api/v1/accounts", tags=["accounts"])

Username = Annotated[str, Path(max_length=64, description="The account's username, any case.")]


@router.get("/{username}", response_model=AccountPage, openapi_extra=OPTIONAL_AUTH)
async def account_page(username: Username, viewer: OptionalViewer, ctx: Ctx) -> AccountPage:
    """An account's public page: who it is (never its country, language or time zone),
    its upcoming drops (soonest first), its followers, and whether the caller follows it.
    404 `not_found` for an unknown username."""
    return await service.account_page(ctx, viewer, username)


@router.post("/{account_id}/follow", response_model=FollowOut)
async def follow(account_id: IdPath, viewer: CurrentViewer, ctx: Ctx) -> FollowOut:
    """Follow a partner brand (idempotent): you are told of each drop it announces from
    now on (`drop_announced`). 422 `not_a_brand` for an account that is not a partner
    brand, 422 `cannot_follow_self` for your own; 404 for an unknown id."""
    return FollowOut(following=await service.follow(ctx, viewer, account_id))


@router.post("/{account_id}/unfollow", response_model=FollowOut)
async def unfollow(account_id: IdPath, viewer: CurrentViewer, ctx: Ctx) -> FollowOut:
    """Stop following (idempotent). What was announced while you followed stays in your
    notifications; nothing announced from now on comes."""
    return FollowOut(following=await service.unfollow(ctx, viewer, account_id))
