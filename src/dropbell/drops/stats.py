"""A brand's figures for one drop: the counts kept since the first stats (reminders held,
notices delivered, opens, shop clicks per hour), delivery lateness, and the figures in
people (``dropbell.drops.analytics``: the funnel, opens and clicks by source, reminders
per hour before launch)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dropbell.context import Context
from dropbell.drops import analytics, export
from dropbell.drops.models import Drop, ShopClick
from dropbell.drops.schemas import DropStats, Lateness, ShopClicks
from dropbell.notifications.models import DropOpen
from dropbell.push.service import push_stats
from dropbell.reminders.models import LIVE, SOON, Delivery, ReminderJob


def weighted_percentile(samples: list[tuple[float, int]], q: float) -> float | None:
    """The q-quantile (0..1) of values given as (value, how many) pairs."""
    total = sum(n for _, n in samples)
    if total == 0:
        return None
    rank = q * (total - 1)
    seen = 0
    for value, n in sorted(samples):
        seen += n
        if seen > rank:
            return value
    return sorted(samples)[-1][0]


async def drop_stats(session: AsyncSession, drop: Drop) -> DropStats:
    notified = {
        kind: int(total)
        for kind, total in await session.execute(
            select(ReminderJob.kind, func.coalesce(func.sum(Delivery.count), 0))
            .join(Delivery, Delivery.job_id == ReminderJob.id)
            .where(ReminderJob.drop_id == drop.id)
            .group_by(ReminderJob.kind)
        )
    }
    # The funnel counts shoppers: one who opened both the "soon" and the launch notice
    # opened once.
    opened = await session.scalar(
        select(func.count(func.distinct(DropOpen.account_id))).where(DropOpen.drop_id == drop.id)
    )
    clicks: dict[str, int] = {
        source: count
        for source, count in await session.execute(
            select(ShopClick.source, func.count())
            .where(ShopClick.drop_id == drop.id)
            .group_by(ShopClick.source)
        )
    }
    batches = await session.execute(
        select(Delivery.delivered_at, ReminderJob.due_at, Delivery.count)
        .join(ReminderJob, Delivery.job_id == ReminderJob.id)
        .where(
            ReminderJob.drop_id == drop.id,
            ReminderJob.kind.in_((SOON, LIVE)),
            Delivery.count > 0,  # a lead nobody chose reached nobody: no lateness to speak of
        )
    )
    samples = [
        (max(0.0, (delivered - due).total_seconds() * 1000), n) for delivered, due, n in batches
    ]
    people = await analytics.figures(session, drop)
    return DropStats(
        reminders=drop.reminder_count,
        notified_soon=int(notified.get(SOON, 0)),
        notified_live=int(notified.get(LIVE, 0)),
        opened=opened or 0,
        shop_clicks=ShopClicks(
            total=sum(clicks.values()),
            notification=clicks.get("notification", 0),
            push=clicks.get("push", 0),
            post=clicks.get("post", 0),
            tag=clicks.get("tag", 0),
            drop=clicks.get("drop", 0),
        ),
        lateness_ms=Lateness(
            p50=_round(weighted_percentile(samples, 0.50)),
            p99=_round(weighted_percentile(samples, 0.99)),
            max=_round(max((v for v, _ in samples), default=None)),
        ),
        push=await push_stats(session, drop.id),
        funnel=people.funnel,
        sources=people.sources,
        reminders_by_hour=people.reminders_by_hour,
    )


async def drop_figures_csv(ctx: Context, drop: Drop) -> tuple[str, str]:
    """The drop's figures as CSV (``dropbell.drops.export``), and its Content-Disposition."""
    numbers = await drop_stats(ctx.session, drop)
    now = ctx.clock.now()
    body = export.figures_csv(
        drop_id=drop.id,
        title=drop.title,
        tag=drop.tag,
        launch_at=drop.launch_at,
        status=drop.status_at(now),
        stats=numbers,
    )
    return body, export.content_disposition(drop.id, drop.tag, now)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
