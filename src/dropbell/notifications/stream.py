"""Live notification events: server-sent events, fanned in from every process.

How an event travels:

1. **Publish, after commit.** The reminder engine publishes each committed
   fan-out batch (a :class:`~dropbell.reminders.scheduler.Scheduler` listener:
   job, drop, kind, subscriber range ``(low, high]``); services publish "the
   unread count of account N changed" with :func:`unread_changed`, which runs
   only after the surrounding transaction commits.
2. **Carry.** On PostgreSQL, ``NOTIFY dropbell_events`` reaches every
   ``dropbell serve`` and ``dropbell worker`` sharing the database; each API
   process LISTENs on one dedicated asyncpg connection and reconnects if it
   drops. A single SQLite process carries events in memory.
3. **Deliver.** Each API process keeps its connected streams by account id.
   For a batch it fetches, in ONE query, the new notifications of just the
   connected subscribers in the batch's range (with their unread counts), and
   pushes a ``notification`` event and an ``unread_count`` event to each.

The stream (``GET /api/v1/streaming/notifications``) sends a keep-alive comment
every ``stream_keepalive_seconds`` and resumes with ``Last-Event-ID`` (event id
= notification id): on reconnect it first sends what was missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Integer, and_, column, exists, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement, bindparam

from dropbell import errors
from dropbell.accounts.deps import Bearer, request_token
from dropbell.accounts.service import Viewer, viewer_for_token
from dropbell.clock import Clock
from dropbell.config import Settings
from dropbell.db import after_commit, transaction
from dropbell.drops import service as drops
from dropbell.drops.models import Drop
from dropbell.drops.rollout import is_eligible
from dropbell.drops.schemas import DropOut
from dropbell.notifications import service as notifications
from dropbell.notifications.models import Notification
from dropbell.notifications.schemas import NotificationOut
from dropbell.reminders.models import Reminder
from dropbell.reminders.scheduler import Delivered, Listener

log = logging.getLogger(__name__)

CHANNEL = "dropbell_events"
BACKLOG_LIMIT = 80  # the most a resumed stream catches up on; the list has the rest
QUEUE_LIMIT = 500  # a stream this far behind is closed; the client resumes with Last-Event-ID
PUBLISHER_KEY = "dropbell.events"  # where a session finds the publisher (session.info)

# --- events --------------------------------------------------------------------------


def batch_event(job_id: int, drop_id: int, kind: str, low: int, high: int | None) -> str:
    return json.dumps({"t": "batch", "job": job_id, "drop": drop_id, "kind": kind, "low": low,
                       "high": high}, separators=(",", ":"))  # fmt: skip


def unread_event(account_id: int) -> str:
    return json.dumps({"t": "unread", "account": account_id}, separators=(",", ":"))


def created_event(account_id: int, notification_id: int) -> str:
    return json.dumps(
        {"t": "created", "account": account_id, "id": notification_id}, separators=(",", ":")
    )


# --- brokers: how events get from a publisher to every API process ------------------------

Handler = Callable[[str], Awaitable[None]]


class Broker(Protocol):
    async def publish(self, payload: str) -> None: ...

    async def start(self, handler: Handler, on_reconnect: Callable[[], None]) -> None: ...

    async def close(self) -> None: ...


class _Tasks:
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
        self._tasks = _Tasks()

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
        self._tasks = _Tasks()
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


# --- publishing ------------------------------------------------------------------------


class Publisher:
    """What the scheduler and the services use to announce changes (never before commit)."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    async def delivered(self, batch: Delivered) -> None:
        """A Scheduler listener: called after each fan-out batch has committed."""
        job = batch.job
        await self._publish(batch_event(job.id, job.drop_id, job.kind, batch.low, batch.high))

    async def _publish(self, payload: str) -> None:
        try:
            await self.broker.publish(payload)
        except Exception:  # a lost live event must never break delivery to the inbox
            log.exception("could not publish a live event")


def scheduler_listeners(publisher: Publisher) -> list[Listener]:
    return [publisher.delivered]


def unread_changed(session: AsyncSession, account_id: int) -> None:
    """After this transaction commits, tell ``account_id``'s live streams the count changed."""
    publisher: Publisher | None = session.info.get(PUBLISHER_KEY)
    if publisher is not None:
        after_commit(session, lambda: publisher._publish(unread_event(account_id)))


def notification_created(session: AsyncSession, account_id: int, notification_id: int) -> None:
    """After commit, push one notification made outside the fan-out (a like, a repost)."""
    publisher: Publisher | None = session.info.get(PUBLISHER_KEY)
    if publisher is not None:
        after_commit(
            session, lambda: publisher._publish(created_event(account_id, notification_id))
        )


# --- the hub: this process's connected streams ------------------------------------------


_CLOSE = b""


@dataclass(eq=False)
class Subscriber:
    """One open stream."""

    viewer: Viewer
    eligible: bool
    queue: asyncio.Queue[tuple[int | None, bytes]] = field(default_factory=asyncio.Queue)
    last_id: int = 0
    closed: bool = False
    last_push: float = field(default_factory=time.monotonic)

    @property
    def account_id(self) -> int:
        return self.viewer.account.id

    def push(self, notification_id: int | None, chunk: bytes) -> None:
        if self.closed:
            return
        if self.queue.qsize() >= QUEUE_LIMIT:
            log.warning("stream of account %s fell behind; closing it", self.account_id)
            self.close()
            return
        self.queue.put_nowait((notification_id, chunk))
        self.last_push = time.monotonic()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.queue.put_nowait((None, _CLOSE))


def _iso(value: Any) -> str:
    from datetime import UTC

    return str(value.astimezone(UTC).isoformat().replace("+00:00", "Z"))


def _frame(notification_id: int, body: str, unread: int) -> bytes:
    return (
        f"event: notification\nid: {notification_id}\ndata: {body}\n\n"
        f'event: unread_count\ndata: {{"count":{unread}}}\n\n'
    ).encode()


def _count_frame(unread: int) -> bytes:
    return f'event: unread_count\ndata: {{"count":{unread}}}\n\n'.encode()


def _ids_filter(session: AsyncSession, col: Any, ids: list[int]) -> ColumnElement[bool]:
    """``col IN ids`` as one bound parameter, however many ids (no 32k-parameter limit)."""
    if session.get_bind().dialect.name == "postgresql":
        return col == func.any(bindparam("ids", ids, type_=ARRAY(Integer)))  # type: ignore[no-any-return]
    values: Any = select(column("value")).select_from(
        func.json_each(bindparam("ids", json.dumps(ids)))
    )
    return col.in_(values)  # type: ignore[no-any-return]


class Hub:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        settings: Settings,
        broker: Broker,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.settings = settings
        self.broker = broker
        self.publisher = Publisher(broker)
        self.streams: dict[int, set[Subscriber]] = {}
        self._ticker: asyncio.Task[None] | None = None
        self._resyncing: asyncio.Task[None] | None = None

    # lifecycle

    async def start(self) -> None:
        await self.broker.start(self.handle, self.resync)
        self._ticker = asyncio.create_task(self._keepalive(), name="stream-keepalive")

    async def close(self) -> None:
        for subs in list(self.streams.values()):
            for sub in list(subs):
                sub.close()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(BaseException):
                await self._ticker
        await self.broker.close()

    async def _keepalive(self) -> None:
        """A comment line to each stream idle for ``stream_keepalive_seconds``.

        Checked several times per period, so streams opened at different moments
        are pinged at different moments: no burst of 10,000 writes at once that
        would delay a launch's delivery.
        """
        every = self.settings.stream_keepalive_seconds
        while True:
            await asyncio.sleep(min(1.0, every / 4))
            idle_since = time.monotonic() - every
            for subs in list(self.streams.values()):
                for sub in list(subs):
                    if sub.last_push <= idle_since:
                        sub.push(None, b": keep-alive\n\n")

    @property
    def connected(self) -> int:
        return sum(len(s) for s in self.streams.values())

    # streams

    def subscribe(self, viewer: Viewer) -> Subscriber:
        sub = Subscriber(viewer=viewer, eligible=is_eligible(self.settings, viewer))
        self.streams.setdefault(viewer.account.id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        sub.closed = True
        subs = self.streams.get(sub.account_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self.streams[sub.account_id]

    async def opening(
        self, session: AsyncSession, sub: Subscriber, last_event_id: int | None
    ) -> tuple[bytes, set[int]]:
        """The first bytes of a stream: missed notifications (oldest first), then the count."""
        account_id = sub.account_id
        chunks = [f"retry: {3000}\n\n".encode()]
        sent: set[int] = set()
        newest = await session.scalar(
            select(func.max(Notification.id)).where(Notification.account_id == account_id)
        )
        sub.last_id = newest or 0
        if last_event_id is not None:
            missed = await self._since(session, sub.viewer, last_event_id)
            for item in missed:
                body = item.model_dump_json()
                chunks.append(f"event: notification\nid: {item.id}\ndata: {body}\n\n".encode())
                sent.add(item.id)
        unread = await notifications.unread_count(session, account_id)
        chunks.append(_count_frame(unread))
        return b"".join(chunks), sent

    async def _since(
        self, session: AsyncSession, viewer: Viewer, after_id: int
    ) -> list[NotificationOut]:
        rows = list(
            await session.scalars(
                select(Notification)
                .where(Notification.account_id == viewer.account.id, Notification.id > after_id)
                .order_by(Notification.id.desc())
                .limit(BACKLOG_LIMIT)
            )
        )
        rows.reverse()
        return await notifications.present(session, self.clock, self.settings, rows, viewer)

    async def events(
        self, sub: Subscriber, first: bytes, already_sent: set[int]
    ) -> AsyncIterator[bytes]:
        """The stream's body: the opening, then whatever the hub pushes, until closed."""
        try:
            yield first
            while True:
                notification_id, chunk = await sub.queue.get()
                if chunk is _CLOSE:
                    return
                if notification_id is not None:
                    if notification_id in already_sent:
                        continue
                    sub.last_id = max(sub.last_id, notification_id)
                yield chunk
        finally:
            self.unsubscribe(sub)

    # events from the broker

    async def handle(self, payload: str) -> None:
        if not self.streams:
            return
        event = json.loads(payload)
        kind = event.get("t")
        if kind == "batch":
            await self._batch(event["job"], event["drop"], event["low"], event["high"])
        elif kind == "unread":
            await self._unread(event["account"])
        elif kind == "created":
            await self._created(event["account"], event["id"])

    async def _batch(self, job_id: int, drop_id: int, low: int, high: int | None) -> None:
        t0 = time.perf_counter()
        ids = [a for a in self.streams if a > low and (high is None or a <= high)]
        if not ids:
            return
        n, unread_n = Notification, aliased(Notification)
        reminded = exists().where(
            and_(Reminder.drop_id == n.drop_id, Reminder.account_id == n.account_id)
        )
        unread = (
            select(func.count())
            .where(unread_n.account_id == n.account_id, unread_n.read_at.is_(None))
            .scalar_subquery()
        )
        async with transaction(self.sessionmaker) as session:
            rows = (
                await session.execute(
                    select(n.id, n.account_id, n.type, n.created_at, n.read_at, reminded, unread)
                    .where(n.job_id == job_id, _ids_filter(session, n.account_id, ids))
                    .order_by(n.id)
                )
            ).all()
            if not rows:
                return
            drop = await session.get(Drop, drop_id)
            base = (
                (await drops.present(session, self.clock, self.settings, [drop], None))[0]
                if drop is not None
                else None
            )
        t1 = time.perf_counter()
        bodies: dict[tuple[str, Any, bool, bool, bool], str] = {}
        for nid, account_id, type_, created_at, read_at, is_reminded, count in rows:
            for sub in list(self.streams.get(account_id, ())):
                key = (type_, created_at, read_at is not None, bool(is_reminded), sub.eligible)
                tail = bodies.get(key)
                if tail is None:
                    tail = bodies[key] = _body_tail(base, *key)
                sub.push(nid, _frame(nid, '{"id":' + str(nid) + tail, count))
        log.debug(
            "job %s: %d live notifications; query %.0f ms, push %.0f ms",
            job_id,
            len(rows),
            (t1 - t0) * 1000,
            (time.perf_counter() - t1) * 1000,
        )

    async def _unread(self, account_id: int) -> None:
        subs = self.streams.get(account_id)
        if not subs:
            return
        async with transaction(self.sessionmaker) as session:
            count = await notifications.unread_count(session, account_id)
        for sub in list(subs):
            sub.push(None, _count_frame(count))

    async def _created(self, account_id: int, notification_id: int) -> None:
        subs = self.streams.get(account_id)
        if not subs:
            return
        async with transaction(self.sessionmaker) as session:
            row = await session.get(Notification, notification_id)
            if row is None:
                return
            count = await notifications.unread_count(session, account_id)
            for sub in list(subs):
                shown = (
                    await notifications.present(
                        session, self.clock, self.settings, [row], sub.viewer
                    )
                )[0]
                sub.push(row.id, _frame(row.id, shown.model_dump_json(), count))

    def resync(self) -> None:
        """The listener reconnected: events may have been missed; each stream catches up."""
        if self._resyncing is None or self._resyncing.done():
            self._resyncing = asyncio.create_task(self._resync_all())

    async def _resync_all(self) -> None:
        gate = asyncio.Semaphore(4)

        async def one(sub: Subscriber) -> None:
            async with gate, transaction(self.sessionmaker) as session:
                missed = await self._since(session, sub.viewer, sub.last_id)
                count = await notifications.unread_count(session, sub.account_id)
            for item in missed:
                sub.push(item.id, _frame(item.id, item.model_dump_json(), count))
            sub.push(None, _count_frame(count))

        subs = [s for group in list(self.streams.values()) for s in group]
        await asyncio.gather(*(one(s) for s in subs), return_exceptions=True)


def _body_tail(
    base: DropOut | None, type_: str, created_at: Any, read: bool, reminded: bool, eligible: bool
) -> str:
    """A Notification's JSON after its id, as the API's list shows it to this subscriber."""
    drop = (
        base.model_copy(
            update={"reminded": reminded, "remindable": eligible and base.status == "scheduled"}
        )
        if base is not None
        else None
    )
    full = NotificationOut(id=0, type=type_, created_at=created_at, read=read, drop=drop)
    text = full.model_dump_json()
    head = '{"id":0'
    assert text.startswith(head)
    return text[len(head) :]


# --- wiring ----------------------------------------------------------------------------


def attach(sessionmaker: async_sessionmaker[AsyncSession], publisher: Publisher) -> None:
    """Sessions from ``sessionmaker`` can announce changes (see :func:`unread_changed`)."""
    sessionmaker.kw.setdefault("info", {})[PUBLISHER_KEY] = publisher


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


router = APIRouter(prefix="/api/v1/streaming", tags=["notifications"])


@router.get(
    "/notifications",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An event stream."}},
)
async def stream_notifications(
    request: Request,
    credentials: Bearer,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """Live notifications (server-sent events).

    `notification` events carry a Notification (as the list returns it) with
    `id:` = its id; `unread_count` events carry `{count}`. A comment line is sent
    every 15 s to keep the connection open. Reconnect with `Last-Event-ID` to
    get what was missed first. Authenticated by bearer token or the web session.
    """
    hub = hub_of(request)
    token = request_token(request, credentials)
    resume = _parse_last_id(last_event_id or request.query_params.get("last_event_id"))
    # No request-long session: an open stream must not hold a database connection.
    async with transaction(hub.sessionmaker) as session:
        viewer = await viewer_for_token(session, token) if token else None
        if viewer is None:
            raise errors.Unauthorized()
        sub = hub.subscribe(viewer)
        try:
            first, sent = await hub.opening(session, sub, resume)
        except BaseException:
            hub.unsubscribe(sub)
            raise
    return StreamingResponse(
        hub.events(sub, first, sent),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _parse_last_id(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return max(0, int(value.strip()))
    except ValueError:
        raise errors.Invalid("Last-Event-ID must be a notification id.") from None
