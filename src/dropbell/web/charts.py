"""The brand console's charts as inline-SVG geometry: new reminders per hour before launch
(columns) and opens and clicks by source (paired bars).

The server draws them (no chart script): a ``viewBox`` that scales to the phone's width,
numbers and dates in the page's language (Babel), mirrored for a right-to-left page (time
runs right to left in Arabic, bars grow from the right), and for screen readers a
``<title>``, a ``<desc>`` with the numbers, and the same figures as a table beside the
chart. Coordinates are in the viewBox's units; the template only places what is here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dropbell import i18n
from dropbell.drops.schemas import BySource, HourFigures
from dropbell.i18n import N_, _
from dropbell.web.render import lead_text, local_time, number

WIDTH = 320
MAX_COLUMNS = 48
# How many hours one column holds, tried in turn until the span fits in MAX_COLUMNS.
STEPS = (1, 2, 3, 4, 6, 12, 24, 48, 72, 168)
SOURCE_LABELS = {
    "notification": N_("Notification"),
    "push": N_("Push"),
    "post": N_("Post"),
    "tag": N_("Tag page"),
    "drop": N_("Drop page"),
}


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str  # "start" or "end", in the viewBox's left-to-right terms


@dataclass(frozen=True)
class Row:
    """One line of the table that says what the chart shows."""

    label: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    title: str
    desc: str
    shapes: list[tuple[str, Rect]]  # (css class, rectangle)
    labels: list[Label]
    rows: list[Row]
    empty: bool = False


def _x(x: float, width: float, rtl: bool) -> float:
    """A rectangle's left edge, mirrored for a right-to-left page."""
    return round(WIDTH - x - width if rtl else x, 1)


def _anchor(anchor: str, rtl: bool) -> str:
    if not rtl:
        return anchor
    return "end" if anchor == "start" else "start"


def column_hours(span: int) -> int:
    """Hours per column for ``span`` hours, so at most MAX_COLUMNS columns are drawn."""
    for step in STEPS:
        if span <= step * MAX_COLUMNS:
            return step
    return 24 * -(-span // (24 * MAX_COLUMNS))  # whole days


def _before(hours: int) -> str:
    if hours == 0:
        return _("Launch")
    seconds = hours * 3600 if hours % 24 else hours // 24 * 86400
    return _("%(time)s before") % {"time": lead_text(seconds)}


def _group(
    series: list[HourFigures], launch_at: datetime, now: datetime
) -> tuple[int, list[tuple[int, int]]]:
    """(hours per column, [(column, reminders)]): columns count back from the launch, the
    earliest first, up to the column of now (or the launch, once it has come)."""
    first = series[0].hours_before
    last = max(0, min(first, -(-int((launch_at - now).total_seconds()) // 3600) - 1))
    step = column_hours(first - last + 1)
    counts: dict[int, int] = {}
    for hour in series:
        counts[hour.hours_before // step] = (
            counts.get(hour.hours_before // step, 0) + hour.reminders
        )
    columns = range(first // step, last // step - 1, -1)
    return step, [(c, counts.get(c, 0)) for c in columns]


def reminders_chart(
    series: list[HourFigures], launch_at: datetime, now: datetime, tz: str | None
) -> Chart:
    """Columns of new reminders, per hour (or per few hours, for a long run-up)."""
    rtl = i18n.direction(i18n.current()) == "rtl"
    height, top, base = 150, 18, 124
    title = _("New reminders per hour before launch")
    if not series:
        return Chart(WIDTH, height, title, _("No reminders yet."), [], [], [], empty=True)
    step, columns = _group(series, launch_at, now)
    if step > 1:
        title = _("New reminders per %(time)s before launch") % {"time": lead_text(step * 3600)}
    peak = max(n for _c, n in columns) or 1
    slot = (WIDTH - 16) / len(columns)
    # A faint line at the tallest column's height (its number beside it), and the baseline.
    shapes = [
        ("chart-grid", Rect(8, top, WIDTH - 16, 0.5)),
        ("chart-axis", Rect(8, base, WIDTH - 16, 1)),
    ]
    rows = []
    for i, (column, n) in enumerate(columns):
        h = (base - top) * n / peak
        shapes.append(
            ("chart-col", Rect(_x(8 + i * slot + 1, slot - 2, rtl), base - h, slot - 2, h))
        )
        if n:
            start = launch_at - timedelta(hours=(column + 1) * step)
            rows.append(Row(local_time(start, tz, "short"), (number(n),)))
    first_edge, last_edge = (columns[0][0] + 1) * step, columns[-1][0] * step
    labels = [
        Label(_x(8, 0, rtl), base + 18, _before(first_edge), _anchor("start", rtl)),
        Label(_x(WIDTH - 8, 0, rtl), base + 18, _before(last_edge), _anchor("end", rtl)),
        Label(_x(8, 0, rtl), top - 6, number(peak), _anchor("start", rtl)),
    ]
    total = sum(n for _c, n in columns)
    busiest = max(columns, key=lambda c: c[1])
    busiest_at = launch_at - timedelta(hours=(busiest[0] + 1) * step)
    desc = _(
        "%(total)s new reminders from %(start)s to %(end)s; the most, %(peak)s, from %(busiest)s."
    ) % {
        "total": number(total),
        "start": _before(first_edge),
        "end": _before(last_edge),
        "peak": number(peak),
        "busiest": local_time(busiest_at, tz, "short"),
    }
    return Chart(WIDTH, height, title, desc, shapes, labels, rows)


def sources_chart(sources: BySource) -> Chart:
    """Paired bars per source: distinct people who opened the drop, and who tapped Shop."""
    rtl = i18n.direction(i18n.current()) == "rtl"
    figures = sources.model_dump()
    peak = max(max(f["opens"], f["clicks"]) for f in figures.values()) or 1
    label_w, row_h, bar_h = 84, 40, 13
    span = WIDTH - label_w - 44  # room for the number after the longest bar
    shapes, labels, rows = [], [], []
    for i, (source, f) in enumerate(figures.items()):
        name = _(SOURCE_LABELS[source])
        y = i * row_h + 6
        labels.append(Label(_x(0, 0, rtl), y + bar_h + 4, name, _anchor("start", rtl)))
        for j, (kind, n) in enumerate((("opens", f["opens"]), ("clicks", f["clicks"]))):
            w = max(2.0, span * n / peak)
            top = y + j * (bar_h + 2)
            shapes.append((f"chart-{kind}", Rect(_x(label_w, w, rtl), top, w, bar_h)))
            end = label_w + w + 4
            labels.append(Label(_x(end, 0, rtl), top + bar_h - 2, number(n), _anchor("start", rtl)))
        rows.append(Row(name, (number(f["opens"]), number(f["clicks"]))))
    desc = "; ".join(
        _("%(source)s: %(opens)s opened, %(clicks)s tapped Shop")
        % {"source": row.label, "opens": row.values[0], "clicks": row.values[1]}
        for row in rows
    )
    title = _("Opens and shop clicks by source")
    return Chart(WIDTH, len(figures) * row_h, title, desc + ".", shapes, labels, rows)
