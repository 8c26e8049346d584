"""Templates, the filters they use (times in the viewer's zone, prices), and ``render``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from dropbell import times
from dropbell.accounts.service import Viewer
from dropbell.config import Settings
from dropbell.drops.schemas import DropOut
from dropbell.posts.tags import tag_spans
from dropbell.web.locale import timezones
from dropbell.web.session import csrf_token, remember_csrf

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
env = templates.env
env.trim_blocks = True
env.lstrip_blocks = True

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


DEVICE_ZONE_COOKIE = "dropbell_tz"


def display_zone(request: Request, viewer: Viewer | None) -> str:
    """The zone a page shows times in: the account's saved zone for a shopper, else the
    zone this browser said it is in (the ``dropbell_tz`` cookie the script sets), else UTC.
    """
    if viewer is not None:
        return viewer.account.timezone
    device = request.cookies.get(DEVICE_ZONE_COOKIE, "")
    if device and len(device) <= 64 and device in timezones():
        return device
    return "UTC"


def local_time(value: datetime, tz: str | None, fmt: str = "long") -> str:
    """A UTC time as the viewer reads it: "Fri 12 Dec, 10:00 AM EST"."""
    when = times.in_zone(value, zone(tz))
    clock = when.strftime("%I:%M %p").lstrip("0")
    abbr = when.strftime("%Z")
    if fmt == "time":
        return f"{clock} {abbr}"
    if fmt == "short":
        return f"{when.strftime('%a')} {when.day} {when.strftime('%b')}, {clock}"
    return f"{when.strftime('%a')} {when.day} {when.strftime('%b %Y')}, {clock} {abbr}"


def input_time(value: datetime | None, tz: str | None) -> str:
    """The value of a ``datetime-local`` input, in the viewer's zone."""
    if value is None:
        return ""
    return times.in_zone(value, zone(tz)).strftime("%Y-%m-%dT%H:%M")


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def money(price: str | None, currency: str | None) -> str:
    if price is None:
        return ""
    try:
        amount = Decimal(price)
    except InvalidOperation:
        return price
    text = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    if currency is None:
        return text
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def ago(value: datetime, now: datetime) -> str:
    seconds = int((now - value).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def countdown(launch_at: datetime, now: datetime) -> str:
    """What the countdown shows before the script takes over (and without scripts)."""
    left = launch_at - now
    if left <= timedelta(0):
        return "Live now"
    total = int(left.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"Starts in {days}d {hours}h"
    if hours:
        return f"Starts in {hours}h {minutes:02d}m"
    return f"Starts in {minutes}:{seconds:02d}"


def lead_text(seconds: int) -> str:
    """A lead as people say it: "1 day", "2 hours", "15 minutes", "90 minutes"."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}" + ("s" if count != 1 else "")
    return f"{seconds} second" + ("s" if seconds != 1 else "")


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def leads_phrase(offsets: list[int] | None) -> str:
    """When a reminder tells: "1 day and 15 minutes before, and at launch" ("at launch" alone
    without a lead)."""
    leads = sorted(set(offsets or []), reverse=True)
    if not leads:
        return "at launch"
    return f"{_and([lead_text(o) for o in leads])} before, and at launch"


def starts_in(seconds: int | None) -> str:
    """What a "soon" notice says: "starts in 1 hour", "starts tomorrow" (a day ahead)."""
    if seconds is None:
        return "starts soon"
    if seconds == 86400:
        return "starts tomorrow"
    return f"starts in {lead_text(seconds)}"


@dataclass(frozen=True)
class LeadChoice:
    """One lead of the drop page's picker: "1 hour before", ticked or not, or already passed."""

    seconds: int
    label: str
    checked: bool
    passed: bool


def lead_choices(drop: DropOut, now: datetime, default_lead: int) -> list[LeadChoice]:
    """The operator's menu (and the default lead), largest first: the caller's current choice
    ticked, or the default lead for a new reminder; a lead whose moment is gone is passed."""
    menu = sorted(set(drop.offset_choices) | {default_lead}, reverse=True)
    chosen = set(drop.reminder_offsets if drop.reminder_offsets is not None else [default_lead])
    choices = []
    for lead in menu:
        passed = times.before(drop.launch_at, lead) <= now
        checked = lead in chosen and (drop.reminded or not passed)
        choices.append(LeadChoice(lead, f"{lead_text(lead)} before", checked, passed))
    return choices


def initials(name: str) -> str:
    parts = [p for p in name.replace("_", " ").split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


def post_text(text: str) -> Markup:
    """A post's text as HTML: every piece escaped, then each hashtag made a link to its page."""
    out: list[str] = []
    at = 0
    for start, end, tag in tag_spans(text):
        out.append(str(escape(text[at:start])))
        href = "/tags/" + quote(tag, safe="")
        out.append(f'<a class="tag" href="{escape(href)}">{escape(text[start:end])}</a>')
        at = end
    out.append(str(escape(text[at:])))
    return Markup("".join(out))


def tuple_pair(zone_name: str) -> tuple[str, str]:
    return zone_name, zone_name.replace("_", " ")


env.filters.update(
    tuple_pair=tuple_pair,
    local_time=local_time,
    input_time=input_time,
    iso=iso,
    money=money,
    initials=initials,
    lead_text=lead_text,
    leads_phrase=leads_phrase,
    starts_in=starts_in,
    post_text=post_text,
)
env.globals.update(ago=ago, countdown=countdown, lead_choices=lead_choices)


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    viewer: Viewer | None,
    settings: Settings,
    now: datetime,
    unread: int = 0,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page (or a fragment) with what every template may use."""
    full = {
        "viewer": viewer,
        "tz": display_zone(request, viewer),
        "now": now,
        "unread": unread,
        "csrf_token": csrf_token(request),
        "lead_seconds": settings.reminder_lead_seconds,
        "path": request.url.path,
        **context,
    }
    response = templates.TemplateResponse(
        request, name, full, status_code=status_code, headers=headers
    )
    response.headers["Cache-Control"] = "no-store"
    remember_csrf(request, response, settings)
    return response
