"""The background work a process runs: the reminder scheduler and the push worker.

``dropbell serve`` (unless ``--no-scheduler``) and ``dropbell worker`` both run it, the
same way: the scheduler releases due notices and, after each release commits,
publishes its live event and wakes the push worker, which sends the pushes the release
queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dropbell.clock import Clock
from dropbell.config import Settings
from dropbell.live.publish import Publisher
from dropbell.push.jobs import PushWorker
from dropbell.reminders.scheduler import Released, Scheduler, scheduler_listeners

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Workers:
    scheduler: Scheduler
    push: PushWorker


def make_workers(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    settings: Settings,
    publisher: Publisher,
) -> Workers:
    push = PushWorker(sessionmaker, clock, settings)

    async def wake_push(_: Released) -> None:  # push at once, not at the next poll
        push.wake.set()

    listeners = [*scheduler_listeners(publisher), wake_push]
    return Workers(Scheduler(sessionmaker, clock, settings, listeners=listeners), push)


@asynccontextmanager
async def running(workers: Workers, stop: asyncio.Event) -> AsyncIterator[Workers]:
    """Run both until the block ends (or ``stop`` is set), then stop them cleanly."""
    tasks = [
        asyncio.create_task(workers.scheduler.run(stop), name="scheduler"),
        asyncio.create_task(workers.push.run(stop), name="push"),
    ]
    try:
        yield workers
    finally:
        stop.set()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, timeout=10)
        await workers.push.aclose()
