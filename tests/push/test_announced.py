"""A followed brand's new drop is pushed to its followers' devices that want
``drop_announced`` pushes, through the same push job as every notice (one per notice)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dropbell.push.jobs import PushWorker
from dropbell.push.models import PushJob
from tests.helpers import Api
from tests.push.helpers import PushApi

pytestmark = pytest.mark.anyio


async def test_followers_devices_are_pushed_the_announcement(
    api: Api, push: PushApi, push_worker: PushWorker
) -> None:
    brand = await api.partner()
    fan, device = await push.subscriber()
    quiet, muted = await push.subscriber(alerts={"drop_announced": False})
    _, bystander = await push.subscriber()  # follows nobody
    late, too_late = await push.subscriber()
    for user in (fan, quiet):
        r = await api.client.post(f"/api/v1/accounts/{brand.id}/follow", headers=user.headers)
        assert r.status_code == 200, r.text
    drop = await api.create_drop(brand, title="Air Bell 2", in_=timedelta(days=2))
    api.clock.advance(1)
    await api.client.post(f"/api/v1/accounts/{brand.id}/follow", headers=late.headers)
    await push_worker.run_due()
    [received] = push.service.for_token(device.token)
    assert received.payload["type"] == "drop_announced"
    assert received.payload["title"] == f"{brand.username} announced Air Bell 2"
    assert received.payload["url"].endswith(f"/drops/{drop['id']}?source=push")
    for other in (muted, bystander, too_late):
        assert push.service.for_token(other.token) == []
    async with push.sessionmaker() as session:
        jobs = await session.scalar(select(func.count()).select_from(PushJob))
    assert jobs == 1  # one job for the announcement, whatever the number of followers
    assert push.service.problems == []
