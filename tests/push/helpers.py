"""Push test helpers: subscribe through the API, release a notice through the real engine."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from dropbell.db import transaction
from dropbell.notifications.models import Notification
from dropbell.push import jobs
from dropbell.push.models import PushDelivery, PushJob, PushSubscription
from dropbell.push.testservice import Device, LocalPushService
from dropbell.reminders.scheduler import Scheduler
from tests.helpers import Api, User

_tokens = itertools.count(1)
LEAD = timedelta(minutes=15)


def launch(drop: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(drop["launch_at"])


class PushApi:
    def __init__(
        self, api: Api, service: LocalPushService, scheduler: Scheduler, worker: jobs.PushWorker
    ) -> None:
        self.api = api
        self.service = service
        self.scheduler = scheduler
        self.worker = worker

    @property
    def sessionmaker(self) -> Any:
        return self.api.app.state.sessionmaker

    async def server_key(self) -> str:
        r = await self.api.client.get("/api/v1/push/key")
        assert r.status_code == 200, r.text
        key: str = r.json()["public_key"]
        self.service.server_key = key  # the push service insists on it from now on
        return key

    def device(self) -> Device:
        return self.service.subscription(f"t{next(_tokens)}")

    async def subscribe(
        self, user: User, device: Device, alerts: dict[str, bool] | None = None
    ) -> httpx.Response:
        body: dict[str, Any] = {"subscription": device.as_json()}
        if alerts is not None:
            body["data"] = {"alerts": alerts}
        return await self.api.client.post(
            "/api/v1/push/subscription", json=body, headers=user.headers
        )

    async def subscriber(
        self, drop: dict[str, Any] | None = None, alerts: dict[str, bool] | None = None
    ) -> tuple[User, Device]:
        """A shopper with one subscribed device, reminded of ``drop`` if given."""
        await self.server_key()
        user = await self.api.signup()
        device = self.device()
        r = await self.subscribe(user, device, alerts)
        assert r.status_code == 200, r.text
        if drop is not None:
            assert (await self.api.remind(user, drop["id"])).status_code == 200
        return user, device

    async def drop(self, in_: timedelta = timedelta(hours=1)) -> dict[str, Any]:
        """A new brand's drop. Its announcement's push job (to the brand's followers: none)
        is worked off here, so a test's push jobs are the reminders' notices."""
        brand = await self.api.partner()
        drop = await self.api.create_drop(brand, in_=in_, title="Air Bell 1")
        assert await self.worker.run_due() == 1
        return drop

    async def release(self, drop: dict[str, Any], kind: str = "drop_live") -> int:
        """Move the clock to the notice's due time and let the real scheduler release it.

        The notice's push job is queued here too, as the scheduler does in the release
        transaction (``enqueue`` is idempotent: a job already queued stays as it is).
        """
        due = launch(drop) - LEAD if kind == "drop_soon" else launch(drop)
        if self.api.clock.now() < due:
            self.api.clock.set(due)
        await self.scheduler.run_due()
        async with transaction(self.sessionmaker) as session:
            notice = await session.scalar(
                select(Notification).where(
                    Notification.drop_id == drop["id"],
                    Notification.type == kind,
                    Notification.account_id.is_(None),
                )
            )
            assert notice is not None, f"no {kind} notice released"
            await jobs.enqueue(
                session,
                notification_id=notice.id,
                drop_id=drop["id"],
                kind=kind,
                due_at=due,
                expires_at=jobs.expires_at_for(kind, due_at=due, launch_at=launch(drop)),
            )
            return notice.id

    async def ledger(self) -> dict[str, int]:
        """Ledger rows by state."""
        async with self.sessionmaker() as session:
            rows = (await session.execute(select(PushDelivery.state))).scalars().all()
        counts: dict[str, int] = {}
        for state in rows:
            counts[state] = counts.get(state, 0) + 1
        return counts

    async def job(self, notification_id: int) -> PushJob:
        async with self.sessionmaker() as session:
            job: PushJob | None = await session.scalar(
                select(PushJob).where(PushJob.notification_id == notification_id)
            )
            assert job is not None
            return job

    async def subscription_count(self) -> int:
        async with self.sessionmaker() as session:
            return len((await session.execute(select(PushSubscription.id))).all())
