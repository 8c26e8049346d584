"""The brand page's and the follow toggle's shapes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from dropbell.drops.schemas import DropOut


class AccountPage(BaseModel):
    """An account as anyone may see it: its public fields (never its country, language or
    time zone), its drops still to come and its followers."""

    id: int
    username: str
    display_name: str
    is_partner: bool = Field(
        description="An approved partner brand: only these can be followed, and only their "
        "drops are announced."
    )
    shop_domains: list[str] = Field(description="The domains the brand's shop links are on.")
    upcoming_drops: list[DropOut] = Field(
        description="Drops not yet launched nor cancelled, soonest launch first (at most 80)."
    )
    followers_count: int = Field(description="How many shoppers follow the account now.")
    following: bool = Field(description="Whether the caller follows it (false without a token).")


class FollowOut(BaseModel):
    following: bool
