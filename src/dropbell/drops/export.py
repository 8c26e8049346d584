"""A drop's figures as CSV, for a spreadsheet: one figure a row, ``section,name,value``.

Numbers are written as they are (``1234``, ``18.4``: no thousands separator, a point for
decimals, whatever the language of the page it was downloaded from); times are UTC, RFC
3339. Text the brand wrote (the title) is quoted by the csv module when it needs to be,
and a cell that a spreadsheet would run as a formula (starting ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) is prefixed with ``'`` (OWASP's advice on CSV injection).
The file starts with a UTF-8 byte order mark, so that a spreadsheet opening it reads an
Arabic or accented title as UTF-8.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

from fastapi.responses import Response

from dropbell.drops.models import DropStatus
from dropbell.drops.schemas import DropStats

Cell = str | int | float | None
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HEADER = ("section", "name", "value")


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):  # never here, but a bool is an int: say it plainly
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if value.startswith(FORMULA_START):
        return "'" + value
    return value


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _rows(
    *, drop_id: int, title: str, tag: str, launch_at: datetime, status: DropStatus, stats: DropStats
) -> Iterator[tuple[str, str, Cell]]:
    yield from (
        ("drop", "id", drop_id),
        ("drop", "title", title),
        ("drop", "tag", tag),
        ("drop", "launch_at", _time(launch_at)),
        ("drop", "status", status),
    )
    yield from (("funnel", name, n) for name, n in stats.funnel.model_dump().items())
    yield ("reminders", "held_now", stats.reminders)
    yield ("notified", "soon", stats.notified_soon)
    yield ("notified", "live", stats.notified_live)
    sources = stats.sources.model_dump()
    yield from (("opens", source, figures["opens"]) for source, figures in sources.items())
    yield from (("clicks", source, figures["clicks"]) for source, figures in sources.items())
    yield from (("shop_clicks", name, n) for name, n in stats.shop_clicks.model_dump().items())
    yield from (("lateness_ms", name, v) for name, v in stats.lateness_ms.model_dump().items())
    for hour in stats.reminders_by_hour:
        yield ("reminders_by_hour", _time(hour.start), hour.reminders)


def figures_csv(
    *, drop_id: int, title: str, tag: str, launch_at: datetime, status: DropStatus, stats: DropStats
) -> str:
    """The CSV text (CRLF line ends, RFC 4180), its byte order mark first."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    rows = _rows(
        drop_id=drop_id, title=title, tag=tag, launch_at=launch_at, status=status, stats=stats
    )
    writer.writerows((section, name, _cell(value)) for section, name, value in rows)
    return out.getvalue()


def content_disposition(drop_id: int, tag: str, today: datetime) -> str:
    """``attachment`` with a filename a browser saves as it is: ``drop-12-lesac-2030-01-01.csv``
    (the tag's Latin letters, digits and ``_``; the whole tag in ``filename*``)."""
    day = today.astimezone(UTC).date().isoformat()
    plain = re.sub(r"[^A-Za-z0-9_]", "", tag)[:40]
    ascii_name = f"drop-{drop_id}-{plain}-{day}.csv" if plain else f"drop-{drop_id}-{day}.csv"
    full = quote(f"drop-{drop_id}-{tag}-{day}.csv", safe="")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{full}"


def csv_response(body: str, disposition: str) -> Response:
    """A download: ``text/csv``, never cached (a brand's figures are theirs alone)."""
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )
