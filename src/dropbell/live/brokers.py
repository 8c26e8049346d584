"""Brokers: how an event gets from a publisher to every API process.

On PostgreSQL, ``NOTIFY dropbell_events`` reaches every ``dropbell serve`` and
``dropbell worker`` sharing the database; each API process LISTENs on one dedicated
asyncpg connection and reconnects if it drops. A single SQLite process carries events
in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from dropbell.config import Settings

log = logging.getLogger(__name__)

CHANNEL = "dropbell_events"


Handler = Callable[[str], Awaitable[None]]


class Broker(Protocol):
    async def publish(self, payload: str) -> None: ...

    async def start(self, handler: Handler, on_reconnect: Callable[[], None]) -> None: ...

    async def close(self) -> None: ...


class Tasks:
    """Keeps references to fire-and-forget tasks so they are not garbage-collected."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("live event handler failed", exc_info=task.exception())

    async def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task


class MemoryBroker:
    """One process (SQLite): publishing hands the event straight to this process's hub."""

    def __init__(self) -> None:
        self._handler: Handler | None = None
        self._tasks = Tasks()

    async def publish(self, payload: str) -> None:
        if self._handler is not None:
            self._tasks.spawn(self._handler(payload))

    async def start(self, handler: Handler, on_reconnect: Callable[[], None]) -> None:
        self._handler = handler

    async def close(self) -> None:
        self._handler = None
        await self._tasks.cancel_all()


def asyncpg_dsn(database_url: str) -> str:
    """The SQLAlchemy URL as a plain ``postgresql://`` DSN for asyncpg."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresBroker:
    """LISTEN/NOTIFY: every process sharing the database hears every event.

    Publishing uses a pooled connection (``pg_notify``); listening uses one
    dedicated asyncpg connection per process, checked every few seconds and
    reopened when it drops (streams then catch up, see ``Hub.resync``).
    """

    def __init__(self, engine: AsyncEngine, database_url: str, *, check_seconds: float = 5.0):
        self.engine = engine
        self.dsn = asyncpg_dsn(database_url)
        self.check_seconds = check_seconds
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._closing = False
        self._tasks = Tasks()
        self._conn: Any = None

    async def publish(self, payload: str) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(select(func.pg_notify(CHANNEL, payload)))
            await conn.commit()

    async def start(self, handler: Handler, on_reconnect: Callable[[], None]) -> None:
        self._task = asyncio.create_task(self._listen(handler, on_reconnect), name="event-listener")
        # Streams opened right after start-up must not miss events: wait for LISTEN.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), timeout=10)

    async def _listen(self, handler: Handler, on_reconnect: Callable[[], None]) -> None:
        import asyncpg  # type: ignore[import-untyped]

        backoff, first = 0.1, True
        while not self._closing:
            conn = None
            try:
                conn = await asyncpg.connect(self.dsn, timeout=10)
                self._conn = conn
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())

                def on_notify(_c: Any, _pid: int, _channel: str, payload: str) -> None:
                    self._tasks.spawn(handler(payload))

                await conn.add_listener(CHANNEL, on_notify)
                self._listening.set()
                if not first:
                    log.warning("event listener reconnected; streams catch up")
                    on_reconnect()
                first, backoff = False, 0.1
                while not self._closing:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), timeout=self.check_seconds)
                    if lost.is_set():
                        raise ConnectionError("listener connection closed")
                    await conn.fetchval("SELECT 1", timeout=self.check_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._closing:
                    break
                self._listening.clear()
                log.warning("event listener lost (%s); reconnecting in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                self._conn = None
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), timeout=2)

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        await self._tasks.cancel_all()


def make_broker(settings: Settings, engine: AsyncEngine) -> Broker:
    if settings.is_sqlite:
        return MemoryBroker()
    return PostgresBroker(engine, settings.database_url)
