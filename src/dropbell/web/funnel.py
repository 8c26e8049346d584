"""The brand's funnel (reminders → delivered → opened → shop clicks) as inline-SVG geometry."""

from __future__ import annotations

from dataclasses import dataclass

from dropbell.drops.schemas import DropStats
from dropbell.i18n import _

WIDTH, BAR_HEIGHT, GAP, LABEL_WIDTH = 320, 34, 14, 0


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    percent: int | None  # of reminders; None for the first bar
    x: float
    y: float
    width: float
    height: float
    text_y: float


@dataclass(frozen=True)
class Funnel:
    bars: list[Bar]
    width: int
    height: int
    summary: str  # what a screen reader says for the chart


def funnel(stats: DropStats) -> Funnel:
    """Bars centred like a funnel, each as wide as its share of the largest step."""
    delivered = max(stats.notified_soon, stats.notified_live)
    steps = [
        (_("Reminders set"), stats.reminders),
        (_("Delivered"), delivered),
        (_("Opened"), stats.opened),
        (_("Shop clicks"), stats.shop_clicks.total),
    ]
    top = max(v for _label, v in steps) or 1
    bars = []
    for i, (label, value) in enumerate(steps):
        width = max(6.0, WIDTH * value / top) if value else 6.0
        y = i * (BAR_HEIGHT + GAP)
        percent = (
            None if i == 0 else (round(100 * value / stats.reminders) if stats.reminders else 0)
        )
        bars.append(
            Bar(
                label=label,
                value=value,
                percent=percent,
                x=(WIDTH - width) / 2,
                y=y,
                width=width,
                height=BAR_HEIGHT,
                text_y=y + BAR_HEIGHT / 2,
            )
        )
    height = len(steps) * (BAR_HEIGHT + GAP) - GAP
    summary = ", ".join(
        f"{b.label} {b.value}" + (f" ({b.percent}%)" if b.percent is not None else "") for b in bars
    )
    return Funnel(
        bars=bars, width=WIDTH, height=height, summary=_("Funnel: %(steps)s.") % {"steps": summary}
    )
