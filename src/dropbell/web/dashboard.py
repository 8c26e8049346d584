"""What the brand console's pages show: the brand's drops with each one's figures, and one
drop's analytics (the funnel, reminders over time, opens and clicks by source, delivery
lateness) as charts, and as a CSV download."""

from __future__ import annotations

from dataclasses import dataclass, field

from dropbell.accounts.service import Viewer
from dropbell.context import Context
from dropbell.drops import access, analytics
from dropbell.drops import service as drops
from dropbell.drops import stats as drop_stats
from dropbell.drops.schemas import DropOut, DropStats, ShopperFunnel
from dropbell.pagination import Page
from dropbell.web.charts import Chart, reminders_chart, sources_chart
from dropbell.web.funnel import Funnel, funnel

LIST_SIZE = 80


@dataclass
class Console:
    drops: list[DropOut] = field(default_factory=list)
    figures: dict[int, ShopperFunnel] = field(default_factory=dict)


@dataclass
class ConsoleDrop:
    drop: DropOut
    stats: DropStats
    funnel: Funnel
    reminders: Chart
    sources: Chart


async def console(ctx: Context, viewer: Viewer) -> Console:
    """The brand's drops, newest first, each with its funnel's figures (a fixed number of
    queries, whatever the number of drops)."""
    access.require_partner(viewer)
    page = Page(limit=LIST_SIZE, max_id=None)
    rows, _ = page.trim(await drops.list_drops(ctx, "all", page, brand_id=viewer.account.id))
    return Console(
        drops=await drops.present(ctx, rows, viewer),
        figures=await analytics.funnels(ctx.session, [d.id for d in rows]),
    )


async def console_drop(ctx: Context, viewer: Viewer, drop_id: int) -> ConsoleDrop:
    """One drop's analytics, its charts drawn in the brand's time zone and language."""
    drop = await access.access_drop(ctx.session, viewer, drop_id)
    shown = await drops.present_one(ctx, drop, viewer)
    numbers = await drop_stats.drop_stats(ctx.session, drop)
    tz = viewer.account.timezone
    return ConsoleDrop(
        drop=shown,
        stats=numbers,
        funnel=funnel(numbers.funnel),
        reminders=reminders_chart(numbers.reminders_by_hour, drop.launch_at, ctx.clock.now(), tz),
        sources=sources_chart(numbers.sources),
    )


async def figures_csv(ctx: Context, viewer: Viewer, drop_id: int) -> tuple[str, str]:
    """The drop's figures as CSV, and the download's Content-Disposition (owner only)."""
    drop = await access.access_drop(ctx.session, viewer, drop_id)
    return await drop_stats.drop_figures_csv(ctx, drop)
