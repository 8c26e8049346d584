"""A drop as a calendar event (.ics) that follows reschedules.

The UID is stable per drop and SEQUENCE is the drop's ``schedule_version``, so
re-importing the file after a reschedule or a cancellation updates the event
that is already in the calendar instead of adding a second one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from icalendar import Alarm, Calendar, Event

from dropbell import times
from dropbell.drops.models import Drop
from dropbell.i18n import _

PRODID = "-//dropbell//drop reminders//EN"
DURATION = timedelta(minutes=30)


def uid_for(drop: Drop, public_url: str) -> str:
    host = urlsplit(public_url).hostname or "dropbell"
    return f"drop-{drop.id}@{host}"


def drop_calendar(
    drop: Drop, *, brand_name: str, url: str, public_url: str, lead_seconds: int, now: datetime
) -> bytes:
    """One VEVENT: DTSTART in UTC, an alarm ``lead_seconds`` before, a link back to the drop;
    its words in the current language (i18n.use)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")

    event = Event()
    event.add("uid", uid_for(drop, public_url))
    event.add("sequence", drop.schedule_version)
    event.add("dtstamp", now)
    event.add("last-modified", drop.updated_at)
    event.add("created", drop.created_at)
    event.add("dtstart", drop.launch_at)
    event.add("dtend", times.shifted(drop.launch_at, DURATION))  # 9999-12-31 23:59 stays in 9999
    event.add(
        "summary", _("%(title)s — %(brand)s drop") % {"title": drop.title, "brand": brand_name}
    )
    description = f"{drop.description}\n\n" if drop.description else ""
    event.add("description", description + _("Shop the drop: %(url)s") % {"url": url})
    event.add("url", url)
    event.add("categories", [f"#{drop.tag}"])
    if drop.cancelled_at is not None:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
        alarm = Alarm()
        alarm.add("uid", f"{uid_for(drop, public_url)}-alarm")
        alarm.add("action", "DISPLAY")
        alarm.add("description", _("%(title)s launches soon") % {"title": drop.title})
        alarm.add("trigger", -times.seconds(lead_seconds))
        event.add_component(alarm)
    cal.add_component(event)
    return bytes(cal.to_ical())
