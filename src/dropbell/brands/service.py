"""Brand pages and follows.

A follow is a period (:class:`~dropbell.brands.models.Follow`), like a reminder: following
begins one, unfollowing ends it, following again begins another. Each toggle is one
idempotent statement. Only partner brands can be followed (422 ``not_a_brand``), and
nobody can follow themselves (422 ``cannot_follow_self``); unfollowing is always
accepted. Followers see the brand's announcements through their periods
(:mod:`dropbell.notifications.audience`): nothing is written per follower when a brand
announces a drop.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dropbell import dialect, errors
from dropbell.accounts import service as accounts
from dropbell.accounts.models import Account
from dropbell.accounts.schemas import USERNAME_RE
from dropbell.accounts.service import Viewer
from dropbell.brands.models import Follow
from dropbell.brands.schemas import AccountPage
from dropbell.context import Context
from dropbell.drops import service as drops
from dropbell.drops.models import Drop
from dropbell.drops.schemas import DropOut

UPCOMING_LIMIT = 80  # upcoming_drops: the soonest this many
PAST_LIMIT = 20  # the web page's earlier drops: the latest this many


async def get_by_username(session: AsyncSession, username: str) -> Account:
    """The account ``@username`` (any case), else 404 with a sentence that names it."""
    if not USERNAME_RE.fullmatch(username):  # never looked up (a NUL), nor echoed
        raise errors.NotFound("There is no such account on dropbell.")
    account = await accounts.get_by_username(session, username)
    if account is None:
        raise errors.NotFound(f"There is no account @{username.lower()} on dropbell.")
    return account


async def upcoming_drops(ctx: Context, brand_id: int, limit: int = UPCOMING_LIMIT) -> list[Drop]:
    """The brand's drops not yet launched nor cancelled, soonest launch first."""
    return list(
        await ctx.session.scalars(
            select(Drop)
            .where(
                Drop.brand_id == brand_id,
                Drop.cancelled_at.is_(None),
                Drop.launch_at > ctx.clock.now(),
            )
            .order_by(Drop.launch_at, Drop.id)
            .limit(limit)
        )
    )


async def past_drops(ctx: Context, brand_id: int, limit: int = PAST_LIMIT) -> list[Drop]:
    """The brand's drops that launched or were called off, latest launch first."""
    now = ctx.clock.now()
    return list(
        await ctx.session.scalars(
            select(Drop)
            .where(Drop.brand_id == brand_id)
            .where((Drop.launch_at <= now) | Drop.cancelled_at.is_not(None))
            .order_by(Drop.launch_at.desc(), Drop.id.desc())
            .limit(limit)
        )
    )


async def followers_count(session: AsyncSession, brand_id: int) -> int:
    """How many follow the brand now (its open periods: the partial unique index)."""
    count = await session.scalar(
        select(func.count())
        .select_from(Follow)
        .where(Follow.brand_id == brand_id, Follow.ended_at.is_(None))
    )
    return int(count or 0)


async def is_following(session: AsyncSession, viewer: Viewer | None, brand_id: int) -> bool:
    if viewer is None:
        return False
    found = await session.scalar(
        select(Follow.id).where(
            Follow.account_id == viewer.account.id,
            Follow.brand_id == brand_id,
            Follow.ended_at.is_(None),
        )
    )
    return found is not None


@dataclass(frozen=True)
class Presence:
    """What the account's page shows of it besides its fields."""

    followers: int
    following: bool


async def presence(session: AsyncSession, viewer: Viewer | None, brand_id: int) -> Presence:
    return Presence(
        await followers_count(session, brand_id), await is_following(session, viewer, brand_id)
    )


def present_page(account: Account, upcoming: list[DropOut], presence: Presence) -> AccountPage:
    return AccountPage(
        id=account.id,
        username=account.username,
        display_name=account.display_name,
        is_partner=account.is_partner,
        shop_domains=[d.domain for d in account.shop_domains],
        upcoming_drops=upcoming,
        followers_count=presence.followers,
        following=presence.following,
    )


async def account_page(ctx: Context, viewer: Viewer | None, username: str) -> AccountPage:
    """``GET /api/v1/accounts/{username}``: the account's public fields, its upcoming
    drops as the viewer sees them, its followers and whether the viewer is one."""
    account = await get_by_username(ctx.session, username)
    rows = await upcoming_drops(ctx, account.id)
    shown = await drops.present(ctx, rows, viewer)
    return present_page(account, shown, await presence(ctx.session, viewer, account.id))


async def follow(ctx: Context, viewer: Viewer, account_id: int) -> bool:
    """Follow the brand ``account_id`` from now on (idempotent: a follower stays one, and
    keeps the period they have). Returns True (following)."""
    brand = await ctx.session.get(Account, account_id)
    if brand is None:
        raise errors.NotFound("No such account.")
    if brand.id == viewer.account.id:
        raise errors.CannotFollowSelf()
    if not brand.is_partner:
        raise errors.NotABrand()
    await ctx.session.execute(
        dialect.insert(ctx.session, Follow)
        .values(account_id=viewer.account.id, brand_id=brand.id, created_at=ctx.clock.now())
        .on_conflict_do_nothing()  # uq_follows_open: already following
    )
    return True


async def unfollow(ctx: Context, viewer: Viewer, account_id: int) -> bool:
    """Stop following ``account_id`` (idempotent). What it announced while followed stays in
    the inbox; nothing it announces from now on comes. Returns False (not following)."""
    if await ctx.session.get(Account, account_id) is None:
        raise errors.NotFound("No such account.")
    await ctx.session.execute(
        update(Follow)
        .where(
            Follow.account_id == viewer.account.id,
            Follow.brand_id == account_id,
            Follow.ended_at.is_(None),
        )
        .values(ended_at=ctx.clock.now())
        .execution_options(synchronize_session=False)
    )
    return False
