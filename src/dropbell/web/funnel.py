"""The brand's funnel in shoppers (reminded → told → opened → clicked through) as
inline-SVG geometry: bars centred like a funnel, each as wide as its share of the widest
step (symmetric, so it reads the same right to left). The numbers are in the legend
beside it and in the chart's ``<title>``/``<desc>``, in the page's language."""

from __future__ import annotations

from dataclasses import dataclass

from dropbell.drops.schemas import ShopperFunnel
from dropbell.i18n import _, ngettext
from dropbell.web.render import number, percent

WIDTH, BAR_HEIGHT, GAP, LABEL_WIDTH = 320, 34, 14, 0


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    shown: str  # the value as the page's language writes it
    percent: str | None  # of the shoppers reminded; None for the first bar
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
    summary: str  # the chart's title: what a screen reader says for it
    desc: str  # what the funnel leaves out (visitors without an account)


def funnel(figures: ShopperFunnel) -> Funnel:
    """Bars centred like a funnel, each as wide as its share of the largest step."""
    steps = [
        (_("Reminded"), figures.reminded),
        (_("Told"), figures.told),
        (_("Opened"), figures.opened),
        (_("Clicked through"), figures.clicked),
    ]
    top = max(v for _label, v in steps) or 1
    bars = []
    for i, (label, value) in enumerate(steps):
        width = max(6.0, WIDTH * value / top) if value else 6.0
        y = i * (BAR_HEIGHT + GAP)
        bars.append(
            Bar(
                label=label,
                value=value,
                shown=number(value),
                percent=None if i == 0 else percent(value, figures.reminded),
                x=round((WIDTH - width) / 2, 1),
                y=y,
                width=round(width, 1),
                height=BAR_HEIGHT,
                text_y=y + BAR_HEIGHT / 2,
            )
        )
    height = len(steps) * (BAR_HEIGHT + GAP) - GAP
    summary = ", ".join(
        f"{b.label} {b.shown}" + (f" ({b.percent})" if b.percent is not None else "") for b in bars
    )
    visitors = figures.clicked_anonymous
    desc = ngettext(
        "Shoppers, each counted once; %(num)s visitor without an account also tapped Shop.",
        "Shoppers, each counted once; %(num)s visitors without an account also tapped Shop.",
        visitors,
    ) % {"num": number(visitors)}
    return Funnel(
        bars=bars,
        width=WIDTH,
        height=height,
        summary=_("Funnel: %(steps)s.") % {"steps": summary},
        desc=desc,
    )
