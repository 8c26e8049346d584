"""Add to calendar: the .ics parses, and a re-import after a reschedule updates the same event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from tests.helpers import Api, iso

pytestmark = pytest.mark.anyio


async def _event(api: Api, drop_id: int):  # type: ignore[no-untyped-def]
    r = await api.client.get(f"/api/v1/drops/{drop_id}/calendar.ics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(r.content)
    events = list(cal.walk("VEVENT"))
    assert len(events) == 1
    return events[0]


async def test_calendar_event_has_utc_start_alarm_link_and_stable_uid(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand, in_=timedelta(hours=3), title="Trail runner")
    event = await _event(api, drop["id"])

    start = event.decoded("dtstart")
    assert start == datetime.fromisoformat(drop["launch_at"])
    assert start.utcoffset() == timedelta(0)
    assert event.to_ical().decode().count("DTSTART:") == 1  # a UTC "Z" time, no TZID
    assert "Z" in event["dtstart"].to_ical().decode()
    assert str(event["url"]) == f"http://dropbell.test/drops/{drop['id']}"
    assert "Trail runner" in str(event["summary"])
    assert str(event["status"]) == "CONFIRMED"
    assert int(event["sequence"]) == 0
    alarms = list(event.walk("VALARM"))
    assert len(alarms) == 1
    assert alarms[0].decoded("trigger") == -timedelta(minutes=15)
    assert str(event["uid"]) == f"drop-{drop['id']}@dropbell.test"


async def test_calendar_follows_reschedule_and_cancel(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand, in_=timedelta(hours=3))
    before = await _event(api, drop["id"])

    new_time = api.clock.now() + timedelta(days=1)
    r = await api.client.patch(
        f"/api/v1/drops/{drop['id']}", json={"launch_at": iso(new_time)}, headers=brand.headers
    )
    assert r.status_code == 200, r.text
    moved = await _event(api, drop["id"])
    assert str(moved["uid"]) == str(before["uid"])
    assert int(moved["sequence"]) == int(before["sequence"]) + 1
    assert moved.decoded("dtstart") == new_time.astimezone(UTC)

    r = await api.client.post(f"/api/v1/drops/{drop['id']}/cancel", headers=brand.headers)
    assert r.status_code == 200, r.text
    cancelled = await _event(api, drop["id"])
    assert str(cancelled["uid"]) == str(before["uid"])
    assert int(cancelled["sequence"]) > int(moved["sequence"])
    assert str(cancelled["status"]) == "CANCELLED"
    assert list(cancelled.walk("VALARM")) == []


async def test_calendar_of_unknown_drop_is_404(api: Api) -> None:
    r = await api.client.get("/api/v1/drops/999/calendar.ics")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
