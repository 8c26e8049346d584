"""What every background worker (the reminder scheduler, the push worker) shares."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dropbell.clock import Clock
from dropbell.config import Settings
from dropbell.db import read_sessions


def default_worker_id() -> str:
    """A name for this worker that no other process has: host, pid and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


async def nap(clock: Clock, until: datetime, at_most: float, *wakers: asyncio.Event) -> None:
    """Sleep until ``until`` (at most ``at_most`` seconds), or until any of ``wakers`` is
    set: how a worker waits for its next due row, a poke, or the order to stop."""
    waits: list[asyncio.Task[object]] = [
        asyncio.create_task(clock.sleep_until(until, at_most=at_most))
    ]
    waits += [asyncio.create_task(event.wait()) for event in wakers]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()


async def run_loop(
    clock: Clock,
    poll: float,
    wake: asyncio.Event,
    stop: asyncio.Event,
    step: Callable[[], Awaitable[datetime | None]],
    failed: Callable[[Exception], float],
) -> None:
    """A worker's loop, until ``stop`` is set: ``step`` works what is due and says when the
    next is due (None: not known), then the worker naps until then, at most ``poll``
    seconds, or until poked (``wake``). When ``step`` raises, ``failed`` (called in the
    ``except``, so it may ``log.exception``) says how many seconds to wait before the next
    try: a bug or a database outage must not stop the worker for good."""
    while not stop.is_set():
        try:
            next_at = await step()
        except Exception as exc:
            await asyncio.sleep(failed(exc))
            continue
        wake.clear()
        await nap(clock, next_at or clock.now() + timedelta(seconds=poll), poll, wake, stop)


class Worker:
    """What a worker holds: its sessions (``reads``: on :func:`dropbell.db.reading`), clock,
    settings, name and the event that pokes it (``wake``)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        settings: Settings,
        worker_id: str | None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.reads = read_sessions(sessionmaker)
        self.clock = clock
        self.settings = settings
        self.worker_id = worker_id or default_worker_id()
        self.wake = asyncio.Event()

    async def loop(
        self,
        stop: asyncio.Event,
        step: Callable[[], Awaitable[datetime | None]],
        failed: Callable[[Exception], float],
    ) -> None:
        """:func:`run_loop` with this worker's clock, poll (``scheduler_poll_seconds``) and
        ``wake``."""
        poll = self.settings.scheduler_poll_seconds
        await run_loop(self.clock, poll, self.wake, stop, step, failed)
