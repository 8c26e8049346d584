"""Push tests: a real local push service on 127.0.0.1 and dropbell's push worker."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dropbell.clock import FakeClock
from dropbell.config import Settings
from dropbell.push.jobs import PushWorker
from dropbell.push.testservice import LocalPushService
from dropbell.reminders.scheduler import Scheduler
from tests.push.helpers import PushApi


@pytest.fixture
async def push_service(clock: FakeClock) -> AsyncIterator[LocalPushService]:
    """The push service checks VAPID expiry against the same fake clock dropbell signs with."""
    service = LocalPushService(now=clock.now)
    await service.start()
    yield service
    await service.stop()


@pytest.fixture
def settings(settings: Settings, push_service: LocalPushService) -> Settings:
    return settings.model_copy(
        update={
            "push_allowed_hosts": push_service.host_port,
            "push_batch_size": 4,
            "push_concurrency": 8,
            "push_max_attempts": 3,
            "push_retry_seconds": 2.0,
        }
    )


@pytest.fixture
async def push_worker(
    app: object, clock: FakeClock, settings: Settings
) -> AsyncIterator[PushWorker]:
    worker = PushWorker(app.state.sessionmaker, clock, settings, worker_id="push-1")  # type: ignore[attr-defined]
    yield worker
    await worker.aclose()


@pytest.fixture
def push(
    api: object, push_service: LocalPushService, scheduler: Scheduler, push_worker: PushWorker
) -> PushApi:
    return PushApi(api, push_service, scheduler, push_worker)  # type: ignore[arg-type]
