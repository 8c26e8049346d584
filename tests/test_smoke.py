from __future__ import annotations

from datetime import timedelta

import pytest

from dropbell.reminders.scheduler import Scheduler
from tests.helpers import Api

pytestmark = pytest.mark.anyio


async def test_drop_reminders_arrive_soon_and_live(api: Api, scheduler: Scheduler) -> None:
    brand = await api.partner()
    shopper = await api.signup()
    drop = await api.create_drop(brand, in_=timedelta(hours=1))
    r = await api.remind(shopper, drop["id"])
    assert r.status_code == 200, r.text
    assert r.json()["reminded"] is True
    assert r.json()["reminder_count"] == 1

    api.clock.advance(timedelta(minutes=44, seconds=59))
    await scheduler.run_due()
    assert await api.types(shopper) == []
    api.clock.advance(timedelta(seconds=1))
    await scheduler.run_due()
    assert await api.types(shopper) == ["drop_soon"]
    api.clock.advance(timedelta(minutes=15))
    await scheduler.run_due()
    assert await api.types(shopper) == ["drop_soon", "drop_live"]
