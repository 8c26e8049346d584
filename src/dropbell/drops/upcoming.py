"""The Upcoming page's list: drops still to launch, soonest first, in keyset pages."""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from dropbell.context import Context
from dropbell.drops.models import Drop


async def upcoming(ctx: Context, limit: int, after: int | None = None) -> tuple[list[Drop], bool]:
    """Scheduled drops (not cancelled, not launched), by launch time then id: a page of
    ``limit`` and whether more follow. ``after``: the last drop of the previous page (the
    page goes on from its place in that order; one unknown starts from the top).

    A range scan of ``ix_drops_launch_at`` from now (or from the cursor's launch time).
    """
    now = ctx.clock.now()
    query = (
        select(Drop)
        .where(Drop.cancelled_at.is_(None), Drop.launch_at > now)
        .order_by(Drop.launch_at, Drop.id)
        .limit(limit + 1)
    )
    if after is not None:
        anchor = await ctx.session.scalar(select(Drop.launch_at).where(Drop.id == after))
        if anchor is not None:
            query = query.where(
                or_(Drop.launch_at > anchor, and_(Drop.launch_at == anchor, Drop.id > after))
            )
    rows = list(await ctx.session.scalars(query))
    return rows[:limit], len(rows) > limit
