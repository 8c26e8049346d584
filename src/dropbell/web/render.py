"""Templates, the filters they use (times in the viewer's zone, prices), and ``render``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_datetime
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal, format_percent, get_currency_symbol
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from dropbell import i18n, times
from dropbell.accounts.service import Viewer
from dropbell.config import Settings
from dropbell.drops import regions
from dropbell.drops.schemas import DropOut
from dropbell.i18n import N_, _, ngettext
from dropbell.posts.tags import tag_spans
from dropbell.web.locale import timezones
from dropbell.web.session import csrf_token, remember_csrf

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
env = templates.env
env.trim_blocks = True
env.lstrip_blocks = True
# {% trans %} and _() read the request's language (i18n.use) at render time, so one
# environment serves every language; newstyle: _() escapes its %(name)s values.
env.add_extension("jinja2.ext.i18n")
env.policies["ext.i18n.trimmed"] = True
env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]


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


# CLDR patterns per language (Babel): long, short (no year, no zone) and time alone. The
# zone's abbreviation ("EST", "CET") is the tz database's, the same in every language.
TIME_PATTERNS = {
    "en": ("EEE d MMM y, h:mm a", "EEE d MMM, h:mm a", "h:mm a"),
    "fr": ("EEE d MMM y, HH:mm", "EEE d MMM, HH:mm", "HH:mm"),
    "es": ("EEE d MMM y, H:mm", "EEE d MMM, H:mm", "H:mm"),
    "ar": ("EEEE d MMMM y، h:mm a", "EEEE d MMMM، h:mm a", "h:mm a"),
}


def local_time(value: datetime, tz: str | None, fmt: str = "long") -> str:
    """A UTC time as the viewer reads it, in the page's language: "Fri 12 Dec 2025,
    10:00 AM EST", "ven. 12 déc. 2025, 16:00 CET"."""
    when = times.in_zone(value, zone(tz))
    locale = i18n.current()
    long, short, clock = TIME_PATTERNS.get(locale, TIME_PATTERNS["en"])
    abbr = when.strftime("%Z")
    if i18n.direction(locale) == "rtl":  # "+03" and "EST" read left to right inside Arabic
        abbr = f"\u2066{abbr}\u2069"
    if fmt == "short":
        return format_datetime(when, short, locale=locale)
    pattern = clock if fmt == "time" else long
    return f"{format_datetime(when, pattern, locale=locale)} {abbr}"


def input_time(value: datetime | None, tz: str | None) -> str:
    """The value of a ``datetime-local`` input, in the viewer's zone."""
    if value is None:
        return ""
    return times.in_zone(value, zone(tz)).strftime("%Y-%m-%dT%H:%M")


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def money(price: str | None, currency: str | None) -> str:
    """A price as the page's language writes it: "$129", "129 $US", "‏129 US$"; cents
    only when there are any."""
    if price is None:
        return ""
    try:
        amount = Decimal(price)
    except InvalidOperation:
        return price
    locale = i18n.current()
    whole = amount == amount.to_integral_value()
    number = format_decimal(amount, "#,##0" if whole else "#,##0.00", locale=locale)
    if currency is None:
        return number
    if get_currency_symbol(currency, locale) == currency:  # no symbol: "129 CHF"
        return f"{number}\xa0{currency}" if locale != "en" else f"{number} {currency}"
    pattern = Locale.parse(locale).currency_formats["standard"].pattern
    if whole:
        pattern = pattern.replace(".00", "")
    return format_currency(amount, currency, pattern, locale=locale, currency_digits=False)


def number(value: float) -> str:
    """A count or a measure as the page's language writes it: "12,345", "12 345"; at most
    one decimal. Latin digits in every language (Babel's default numbering system)."""
    return format_decimal(value, "#,##0.#", locale=i18n.current())


def percent(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a whole percentage: "25%", "25 %" (0 of 0 is 0%)."""
    share = part / whole if whole else 0
    return format_percent(share, locale=i18n.current())


def ago(value: datetime, now: datetime) -> str:
    seconds = int((now - value).total_seconds())
    if seconds < 60:
        return _("just now")
    if seconds < 3600:
        n = seconds // 60
        return ngettext("%(num)d min ago", "%(num)d min ago", n) % {"num": n}
    if seconds < 86400:
        n = seconds // 3600
        return ngettext("%(num)d h ago", "%(num)d h ago", n) % {"num": n}
    n = seconds // 86400
    return ngettext("%(num)d d ago", "%(num)d d ago", n) % {"num": n}


def countdown(launch_at: datetime, now: datetime) -> str:
    """What the countdown shows before the script takes over (and without scripts)."""
    left = launch_at - now
    if left <= timedelta(0):
        return _("Live now")
    total = int(left.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return _("Starts in {d}d {h}h").format(d=days, h=hours)
    if hours:
        return _("Starts in {h}h {m}m").format(h=hours, m=f"{minutes:02d}")
    return _("Starts in {m}:{s}").format(m=minutes, s=f"{seconds:02d}")


def lead_text(seconds: int) -> str:
    """A lead as people say it: "1 day", "2 hours", "15 minutes", "90 minutes"."""
    if seconds >= 86400 and seconds % 86400 == 0:
        n = seconds // 86400
        return ngettext("%(num)d day", "%(num)d days", n) % {"num": n}
    if seconds >= 3600 and seconds % 3600 == 0:
        n = seconds // 3600
        return ngettext("%(num)d hour", "%(num)d hours", n) % {"num": n}
    if seconds >= 60 and seconds % 60 == 0:
        n = seconds // 60
        return ngettext("%(num)d minute", "%(num)d minutes", n) % {"num": n}
    return ngettext("%(num)d second", "%(num)d seconds", seconds) % {"num": seconds}


def _and(parts: list[str]) -> str:
    """ "a, b and c" in English (no serial comma); CLDR's list pattern in the others."""
    locale = i18n.current()
    if locale != "en":
        return format_list(parts, locale=locale)
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def leads_phrase(offsets: list[int] | None) -> str:
    """When a reminder tells: "1 day and 15 minutes before, and at launch" ("at launch" alone
    without a lead)."""
    leads = sorted(set(offsets or []), reverse=True)
    if not leads:
        return _("at launch")
    return _("%(leads)s before, and at launch") % {"leads": _and([lead_text(o) for o in leads])}


def starts_in(seconds: int | None) -> str:
    """What a "soon" notice says: "starts in 1 hour", "starts tomorrow" (a day ahead)."""
    if seconds is None:
        return _("starts soon")
    if seconds == 86400:
        return _("starts tomorrow")
    return _("starts in %(lead)s") % {"lead": lead_text(seconds)}


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
        label = _("%(lead)s before") % {"lead": lead_text(lead)}
        choices.append(LeadChoice(lead, label, checked, passed))
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
        out.append(f'<a class="tag" href="{escape(href)}" dir="auto">{escape(text[start:end])}</a>')
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
    number=number,
    initials=initials,
    lead_text=lead_text,
    leads_phrase=leads_phrase,
    starts_in=starts_in,
    post_text=post_text,
)
env.globals.update(ago=ago, countdown=countdown, lead_choices=lead_choices)
# Where a drop is sold (drops.regions), in the page's language.
env.globals.update(where_sold=regions.where_sold, not_sold_here=regions.not_sold_here)


def request_locale(request: Request, viewer: Viewer | None) -> str:
    """The language a page speaks: the switcher's cookie, else the account's language,
    else the browser's ``Accept-Language``, else English."""
    return i18n.choose(
        request.cookies.get(i18n.COOKIE),
        viewer.account.language if viewer else None,
        request.headers.get("accept-language"),
    )


# What app.js and push.js say; base.html hands them over, translated, as JSON.
JS_TEXTS = (
    N_("Live now"),
    N_("Starts in {d}d {h}h"),
    N_("Starts in {h}h {m}m"),
    N_("Starts in {m}:{s}"),
    N_("Open"),
    N_("Link copied"),
    N_("Copy this link: {url}"),
    N_("Something went wrong. Try again."),
    N_("You seem to be offline."),
    N_("Reminder removed: {title}"),
    N_("Notifications are not available right now."),
    N_("Notifications were not turned on."),
    N_("Saved."),
    N_("{title} starts soon"),
    N_("{title} is live now"),
    N_("{title} has a new launch time"),
    N_("{title} was cancelled"),
    N_("{brand} announced {title}"),
    N_("{title} has news"),
    N_("{name} liked your post"),
    N_("{name} reposted your post"),
)


def js_text() -> dict[str, str]:
    return {text: _(text) for text in JS_TEXTS}


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
    """Render a page (or a fragment) with what every template may use, in the request's
    language (i18n.choose: the switcher's cookie, the account's, the browser's)."""
    locale = request_locale(request, viewer)
    full = {
        "lang": locale,
        "dir": i18n.direction(locale),
        "locales": i18n.LOCALES,
        "js_text": js_text,
        "viewer": viewer,
        "tz": display_zone(request, viewer),
        "now": now,
        "unread": unread,
        "csrf_token": csrf_token(request),
        "lead_seconds": settings.reminder_lead_seconds,
        "path": request.url.path,
        **context,
    }
    with i18n.use(locale):
        response = templates.TemplateResponse(
            request, name, full, status_code=status_code, headers=headers
        )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = locale
    vary = response.headers.get("Vary")
    response.headers["Vary"] = f"{vary}, Accept-Language" if vary else "Accept-Language"
    remember_csrf(request, response, settings)
    return response
