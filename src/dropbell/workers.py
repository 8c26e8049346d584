"""What every background worker (the reminder scheduler, the push worker) shares."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from datetime import datetime

from dropbell.clock import Clock


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
