"""Shopper-chosen leads (product.md rule 1): one, several, changed, one already past,
undo before and after a lead's moment, and reschedules with chosen leads."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from dropbell.reminders.scheduler import Scheduler
from tests.helpers import Api, User, remind_with

# Chosen leads decide which notices a shopper sees: each way of reading an inbox must agree.
pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("inbox_read")]

DAY, HOUR, QUARTER = 86400, 3600, 900


def _at(drop: dict[str, Any], before: int = 0) -> datetime:
    return datetime.fromisoformat(drop["launch_at"]) - timedelta(seconds=before)


async def _leads_seen(api: Api, user: User) -> list[tuple[str, int | None]]:
    """(type, lead_seconds) of the user's notifications, oldest first."""
    return [(n["type"], n["lead_seconds"]) for n in reversed(await api.inbox(user, limit=80))]


async def _walk(api: Api, scheduler: Scheduler, *moments: datetime) -> None:
    for moment in moments:
        api.clock.set(moment)
        await scheduler.run_due()


async def _drop(api: Api, in_: timedelta = timedelta(days=2)) -> tuple[User, dict[str, Any]]:
    brand = await api.partner()
    return brand, await api.create_drop(brand, in_=in_)


async def test_one_chosen_lead_replaces_the_default(api: Api, scheduler: Scheduler) -> None:
    _, drop = await _drop(api)
    shopper = await api.signup()
    r = await remind_with(api, shopper, drop["id"], [HOUR])
    assert r.status_code == 200, r.text
    assert r.json()["reminder_offsets"] == [HOUR]
    assert r.json()["offset_choices"] == [DAY, HOUR, QUARTER]
    await _walk(api, scheduler, _at(drop, DAY), _at(drop, HOUR), _at(drop, QUARTER), _at(drop))
    assert await _leads_seen(api, shopper) == [("drop_soon", HOUR), ("drop_live", None)]
    soon = (await api.inbox(shopper))[1]
    assert soon["created_at"] == _at(drop, HOUR).isoformat().replace("+00:00", "Z")


async def test_no_body_means_the_default_lead(api: Api, scheduler: Scheduler) -> None:
    _, drop = await _drop(api)
    shopper = await api.signup()
    assert (await api.remind(shopper, drop["id"])).json()["reminder_offsets"] == [QUARTER]
    await _walk(api, scheduler, _at(drop, DAY), _at(drop, HOUR), _at(drop, QUARTER), _at(drop))
    assert await _leads_seen(api, shopper) == [("drop_soon", QUARTER), ("drop_live", None)]


async def test_several_leads_each_come_once_and_the_launch_always(
    api: Api, scheduler: Scheduler
) -> None:
    _, drop = await _drop(api)
    several, launch_only = await api.signup(), await api.signup()
    await remind_with(api, several, drop["id"], [QUARTER, DAY])
    await remind_with(api, several, drop["id"], [DAY, QUARTER])  # the same choice: idempotent
    assert (await remind_with(api, launch_only, drop["id"], [])).json()["reminder_offsets"] == []
    shown = (await api.client.get(f"/api/v1/drops/{drop['id']}", headers=several.headers)).json()
    assert shown["reminder_offsets"] == [DAY, QUARTER] and shown["reminder_count"] == 2
    for _ in range(2):  # a second pass of the scheduler changes nothing
        await _walk(api, scheduler, _at(drop, DAY), _at(drop, HOUR), _at(drop, QUARTER), _at(drop))
    assert await _leads_seen(api, several) == [
        ("drop_soon", DAY),
        ("drop_soon", QUARTER),
        ("drop_live", None),
    ]
    assert await _leads_seen(api, launch_only) == [("drop_live", None)]


async def test_changing_the_choice_keeps_what_came_and_changes_what_is_to_come(
    api: Api, scheduler: Scheduler
) -> None:
    brand, drop = await _drop(api)
    shopper = await api.signup()
    await remind_with(api, shopper, drop["id"], [DAY, QUARTER])
    await _walk(api, scheduler, _at(drop, DAY), _at(drop, DAY - 60))
    r = await remind_with(api, shopper, drop["id"], [HOUR])
    assert r.json()["reminder_offsets"] == [HOUR] and r.json()["reminder_count"] == 1
    await _walk(api, scheduler, _at(drop, HOUR), _at(drop, QUARTER), _at(drop))
    assert await _leads_seen(api, shopper) == [
        ("drop_soon", DAY),
        ("drop_soon", HOUR),
        ("drop_live", None),
    ]
    stats = (
        await api.client.get(f"/api/v1/drops/{drop['id']}/stats", headers=brand.headers)
    ).json()
    assert (stats["reminders"], stats["notified_soon"], stats["notified_live"]) == (1, 2, 1)


async def test_a_lead_already_past_gives_no_backdated_notice(
    api: Api, scheduler: Scheduler
) -> None:
    _, drop = await _drop(api, in_=timedelta(minutes=30))
    shopper = await api.signup()
    r = await remind_with(api, shopper, drop["id"], [HOUR, QUARTER])
    assert r.status_code == 200 and r.json()["reminder_offsets"] == [HOUR, QUARTER]
    await _walk(api, scheduler, _at(drop, QUARTER), _at(drop))
    assert await _leads_seen(api, shopper) == [("drop_soon", QUARTER), ("drop_live", None)]


async def test_adding_a_lead_after_its_moment_gives_nothing_back_dated(
    api: Api, scheduler: Scheduler
) -> None:
    _, drop = await _drop(api)
    shopper = await api.signup()
    await remind_with(api, shopper, drop["id"], [QUARTER])
    await _walk(api, scheduler, _at(drop, HOUR), _at(drop, HOUR - 60))  # the 1-hour notice is out
    await remind_with(api, shopper, drop["id"], [HOUR, QUARTER])
    await _walk(api, scheduler, _at(drop, QUARTER), _at(drop))
    assert await _leads_seen(api, shopper) == [("drop_soon", QUARTER), ("drop_live", None)]


async def test_a_lead_off_the_menu_is_refused_and_changes_nothing(api: Api) -> None:
    _, drop = await _drop(api)
    shopper = await api.signup()
    r = await remind_with(api, shopper, drop["id"], [HOUR, 1234])
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_offset" and "1234 seconds" in r.json()["error"]
    shown = (await api.client.get(f"/api/v1/drops/{drop['id']}", headers=shopper.headers)).json()
    assert shown["reminded"] is False and shown["reminder_offsets"] is None
    assert shown["reminder_count"] == 0
    bad = await api.client.post(
        f"/api/v1/drops/{drop['id']}/remind", headers=shopper.headers, json={"offsets": "soon"}
    )
    assert bad.status_code == 422


async def test_the_menu_is_a_setting(api: Api, scheduler: Scheduler) -> None:
    api.app.state.settings.reminder_offsets = "7200,600"
    api.app.state.settings.__dict__.pop("offset_choices", None)  # cached: read it again
    _, drop = await _drop(api)
    assert drop["offset_choices"] == [7200, 600]
    shopper = await api.signup()
    assert (await remind_with(api, shopper, drop["id"], [DAY])).status_code == 422
    assert (await remind_with(api, shopper, drop["id"], [7200])).status_code == 200
    await _walk(api, scheduler, _at(drop, 7200), _at(drop))
    assert await _leads_seen(api, shopper) == [("drop_soon", 7200), ("drop_live", None)]


async def test_undo_before_a_lead_stops_it_and_after_keeps_it(
    api: Api, scheduler: Scheduler
) -> None:
    _, drop = await _drop(api)
    early, late = await api.signup(), await api.signup()
    for shopper in (early, late):
        await remind_with(api, shopper, drop["id"], [DAY, HOUR])
    await _walk(api, scheduler, _at(drop, DAY + 1))
    await api.client.post(f"/api/v1/drops/{drop['id']}/unremind", headers=early.headers)
    await _walk(api, scheduler, _at(drop, DAY), _at(drop, DAY - 1))
    r = await api.client.post(f"/api/v1/drops/{drop['id']}/unremind", headers=late.headers)
    assert r.json()["reminded"] is False and r.json()["reminder_offsets"] is None
    await _walk(api, scheduler, _at(drop, HOUR), _at(drop))
    assert await _leads_seen(api, early) == []
    assert await _leads_seen(api, late) == [("drop_soon", DAY)]  # delivered stays; rest stops


async def test_remind_again_after_undo_starts_from_now(api: Api, scheduler: Scheduler) -> None:
    _, drop = await _drop(api)
    shopper = await api.signup()
    await remind_with(api, shopper, drop["id"], [DAY, HOUR])
    await _walk(api, scheduler, _at(drop, DAY), _at(drop, DAY - 60))
    await api.client.post(f"/api/v1/drops/{drop['id']}/unremind", headers=shopper.headers)
    await api.client.post(f"/api/v1/drops/{drop['id']}/unremind", headers=shopper.headers)
    await remind_with(api, shopper, drop["id"], [DAY, HOUR])
    shown = (await api.client.get(f"/api/v1/drops/{drop['id']}", headers=shopper.headers)).json()
    assert shown["reminder_count"] == 1
    await _walk(api, scheduler, _at(drop, HOUR), _at(drop))
    assert await _leads_seen(api, shopper) == [
        ("drop_soon", DAY),
        ("drop_soon", HOUR),
        ("drop_live", None),
    ]


async def _reschedule(api: Api, brand: User, drop: dict[str, Any], to: datetime) -> None:
    r = await api.client.patch(
        f"/api/v1/drops/{drop['id']}",
        headers=brand.headers,
        json={"launch_at": to.isoformat().replace("+00:00", "Z")},
    )
    assert r.status_code == 200, r.text
    drop["launch_at"] = r.json()["launch_at"]


async def test_reschedule_later_moves_chosen_leads(api: Api, scheduler: Scheduler) -> None:
    brand, drop = await _drop(api)
    shopper = await api.signup()
    await remind_with(api, shopper, drop["id"], [DAY, HOUR])
    old_hour = _at(drop, HOUR)
    await _walk(api, scheduler, _at(drop, DAY))
    await _reschedule(api, brand, drop, _at(drop) + timedelta(hours=3))
    new_day = _at(drop, DAY)
    await _walk(api, scheduler, api.clock.now(), new_day, old_hour, _at(drop, HOUR), _at(drop))
    # Told the new time, then each chosen lead again for it; nothing at the old hour.
    assert await _leads_seen(api, shopper) == [
        ("drop_soon", DAY),
        ("drop_rescheduled", None),
        ("drop_soon", DAY),
        ("drop_soon", HOUR),
        ("drop_live", None),
    ]
    hour = next(n for n in await api.inbox(shopper) if n["lead_seconds"] == HOUR)
    assert hour["created_at"] == _at(drop, HOUR).isoformat().replace("+00:00", "Z")


async def test_reschedule_earlier_drops_leads_already_past(api: Api, scheduler: Scheduler) -> None:
    brand, drop = await _drop(api)
    shopper = await api.signup()
    await remind_with(api, shopper, drop["id"], [DAY, HOUR, QUARTER])
    await _walk(api, scheduler, _at(drop, DAY) + timedelta(hours=1))
    # New launch in 30 minutes: the one-hour lead is already past, the 15 minutes not.
    await _reschedule(api, brand, drop, api.clock.now() + timedelta(minutes=30))
    await _walk(api, scheduler, api.clock.now(), _at(drop, HOUR), _at(drop, QUARTER), _at(drop))
    assert await _leads_seen(api, shopper) == [
        ("drop_soon", DAY),
        ("drop_rescheduled", None),
        ("drop_soon", QUARTER),
        ("drop_live", None),
    ]
