"""Time arithmetic that stays inside the calendar (years 1 to 9999).

A time near ``datetime.max`` overflows when moved forward (an .ics end time), shown in a
zone ahead of UTC, or moved back by a huge lead; these helpers clamp instead of raising,
so a far-off drop never turns a page into a 500.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
_MAX_SECONDS = 999_999_999 * 86_400  # timedelta.max, in whole days


def seconds(value: float) -> timedelta:
    """``timedelta(seconds=value)``, clamped to what a timedelta can hold."""
    return timedelta(seconds=max(-_MAX_SECONDS, min(_MAX_SECONDS, value)))


def shifted(when: datetime, delta: timedelta) -> datetime:
    """``when + delta``, clamped to the calendar's first and last instant (aware UTC)."""
    try:
        return when + delta
    except OverflowError:
        return LATEST if delta > timedelta(0) else EARLIEST


def before(when: datetime, lead_seconds: float) -> datetime:
    """``lead_seconds`` before ``when`` (a reminder's due time), clamped."""
    return shifted(when, -seconds(lead_seconds))


def in_zone(when: datetime, zone: tzinfo) -> datetime:
    """``when`` in ``zone``; in UTC when the zone's local time would leave the calendar
    (9999-12-31 23:00 UTC is already year 10000 in Tokyo)."""
    try:
        return when.astimezone(zone)
    except (OverflowError, ValueError):
        return when.astimezone(UTC)
