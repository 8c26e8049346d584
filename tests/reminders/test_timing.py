"""product.md rules 1-5: timing, exactly once, late subscribers, changes, downtime."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from dropbell.reminders.scheduler import Scheduler
from tests.helpers import Api, User, iso

pytestmark = pytest.mark.anyio

HOUR = timedelta(hours=1)


async def _setup(api: Api, in_: timedelta = HOUR) -> tuple[User, User, dict]:  # type: ignore[type-arg]
    brand = await api.partner()
    shopper = await api.signup()
    drop = await api.create_drop(brand, in_=in_)
    r = await api.remind(shopper, drop["id"])
    assert r.status_code == 200, r.text
    return brand, shopper, drop


def _at(drop: dict, delta: timedelta = timedelta(0)) -> datetime:  # type: ignore[type-arg]
    return datetime.fromisoformat(drop["launch_at"]) + delta


async def test_soon_fires_at_lead_time_and_live_at_launch(api: Api, scheduler: Scheduler) -> None:
    _, shopper, drop = await _setup(api)
    api.clock.set(_at(drop, -timedelta(minutes=15, seconds=1)))
    await scheduler.run_due()
    assert await api.types(shopper) == []
    api.clock.set(_at(drop, -timedelta(minutes=15)))
    await scheduler.run_due()
    assert await api.types(shopper) == ["drop_soon"]
    soon = (await api.inbox(shopper))[0]
    assert soon["created_at"] == iso(_at(drop, -timedelta(minutes=15)))
    assert soon["drop"]["id"] == drop["id"] and soon["drop"]["reminded"] is True
    assert soon["read"] is False

    api.clock.set(_at(drop, -timedelta(microseconds=1)))
    await scheduler.run_due()
    r = await api.client.get(f"/api/v1/drops/{drop['id']}")
    assert r.json()["status"] == "scheduled"
    api.clock.set(_at(drop))
    await scheduler.run_due()
    assert await api.types(shopper) == ["drop_soon", "drop_live"]
    r = await api.client.get(f"/api/v1/drops/{drop['id']}")
    assert r.json()["status"] == "live"
    live = (await api.inbox(shopper))[0]
    assert live["created_at"] == drop["launch_at"]


async def test_lead_time_is_a_setting(api: Api, scheduler: Scheduler) -> None:
    api.app.state.settings.reminder_lead_seconds = 3600
    _, shopper, drop = await _setup(api, in_=timedelta(hours=2))
    api.clock.set(_at(drop, -HOUR))
    await scheduler.run_due()
    assert await api.types(shopper) == ["drop_soon"]


async def test_each_notice_is_delivered_exactly_once(api: Api, scheduler: Scheduler) -> None:
    brand = await api.partner()
    shoppers = [await api.signup() for _ in range(7)]
    drop = await api.create_drop(brand)
    for s in shoppers:
        await api.remind(s, drop["id"])
        await api.remind(s, drop["id"])  # idempotent
    assert (await api.client.get(f"/api/v1/drops/{drop['id']}")).json()["reminder_count"] == 7
    for _ in range(3):
        api.clock.set(_at(drop, timedelta(seconds=5)))
        await scheduler.run_due()
        await Scheduler(api.app.state.sessionmaker, api.clock, api.app.state.settings).run_due()
    for s in shoppers:
        assert await api.types(s) == ["drop_live"]  # soon skipped: the drop was already live
    stats = (
        await api.client.get(f"/api/v1/drops/{drop['id']}/stats", headers=brand.headers)
    ).json()
    assert stats["notified_live"] == 7 and stats["notified_soon"] == 0
    assert stats["lateness_ms"]["max"] == pytest.approx(5000, abs=1)


async def test_only_subscribers_are_told(api: Api, scheduler: Scheduler) -> None:
    _, shopper, drop = await _setup(api)
    bystander = await api.signup()
    unreminded = await api.signup()
    await api.remind(unreminded, drop["id"])
    r = await api.client.post(f"/api/v1/drops/{drop['id']}/unremind", headers=unreminded.headers)
    assert r.status_code == 200 and r.json()["reminded"] is False
    assert r.json()["reminder_count"] == 1
    r = await api.client.post(f"/api/v1/drops/{drop['id']}/unremind", headers=unreminded.headers)
    assert r.json()["reminder_count"] == 1  # idempotent
    api.clock.set(_at(drop))
    await scheduler.run_due()
    assert await api.types(shopper) == ["drop_live"]
    assert await api.types(bystander) == []
    assert await api.types(unreminded) == []


async def test_late_subscriber_gets_no_backdated_soon_but_the_launch(
    api: Api, scheduler: Scheduler
) -> None:
    brand = await api.partner()
    early, late = await api.signup(), await api.signup()
    drop = await api.create_drop(brand)
    await api.remind(early, drop["id"])
    api.clock.set(_at(drop, -timedelta(minutes=15)))
    await scheduler.run_due()
    api.clock.set(_at(drop, -timedelta(minutes=5)))
    assert (await api.remind(late, drop["id"])).status_code == 200
    await scheduler.run_due()
    api.clock.set(_at(drop))
    await scheduler.run_due()
    assert await api.types(early) == ["drop_soon", "drop_live"]
    assert await api.types(late) == ["drop_live"]


async def test_late_subscriber_during_worker_downtime_gets_no_soon(
    api: Api, scheduler: Scheduler
) -> None:
    """The worker was down at T-15; at T-5 a shopper reminds; the worker comes back at T-4."""
    brand = await api.partner()
    early, late = await api.signup(), await api.signup()
    drop = await api.create_drop(brand)
    await api.remind(early, drop["id"])
    api.clock.set(_at(drop, -timedelta(minutes=5)))
    await api.remind(late, drop["id"])
    api.clock.set(_at(drop, -timedelta(minutes=4)))
    await scheduler.run_due()
    assert await api.types(early) == ["drop_soon"]  # overdue, but the drop is not live yet
    assert await api.types(late) == []


async def test_remind_is_refused_after_launch_and_cancel(api: Api, scheduler: Scheduler) -> None:
    brand = await api.partner()
    shopper = await api.signup()
    live = await api.create_drop(brand, in_=HOUR)
    off = await api.create_drop(brand, in_=2 * HOUR)
    await api.client.post(f"/api/v1/drops/{off['id']}/cancel", headers=brand.headers)
    api.clock.set(_at(live))  # no scheduler run needed: status follows the clock
    r = await api.remind(shopper, live["id"])
    assert r.status_code == 409 and r.json()["code"] == "drop_live"
    assert r.json()["error"]
    r = await api.remind(shopper, off["id"])
    assert r.status_code == 409 and r.json()["code"] == "drop_cancelled"
    assert (await api.client.get(f"/api/v1/drops/{live['id']}")).json()["reminder_count"] == 0


@pytest.mark.parametrize(
    ("who", "rollout"),
    [
        ({"platform": "android"}, {}),
        ({"platform": "web"}, {}),
        ({"country": "DE"}, {}),
        ({"language": "de"}, {}),
        ({"platform": "android", "country": "DE"}, {"rollout_countries": "*"}),
    ],
)
async def test_shoppers_outside_the_rollout_get_403(
    api: Api, who: dict[str, str], rollout: dict[str, str]
) -> None:
    for key, value in rollout.items():
        setattr(api.app.state.settings, key, value)
    api.app.state.settings.__dict__.pop("rollout", None)
    brand = await api.partner()
    drop = await api.create_drop(brand)
    outsider = await api.signup(**who)  # type: ignore[arg-type]
    seen = (await api.client.get(f"/api/v1/drops/{drop['id']}", headers=outsider.headers)).json()
    assert seen["remindable"] is False
    r = await api.remind(outsider, drop["id"])
    assert r.status_code == 403 and r.json()["code"] == "not_eligible"
    assert (await api.client.get(f"/api/v1/drops/{drop['id']}")).json()["reminder_count"] == 0


async def test_wildcard_rollout_lets_everyone_in(api: Api) -> None:
    settings = api.app.state.settings
    settings.rollout_platforms = settings.rollout_countries = settings.rollout_languages = "*"
    settings.__dict__.pop("rollout", None)
    brand = await api.partner()
    drop = await api.create_drop(brand)
    anyone = await api.signup(platform="android", country="JP", language="ja")
    seen = (await api.client.get(f"/api/v1/drops/{drop['id']}", headers=anyone.headers)).json()
    assert seen["remindable"] is True
    assert (await api.remind(anyone, drop["id"])).status_code == 200
