"""One API process's open event streams, and what each live event sends them.

For a released notice the hub finds, in ONE query, which of this process's connected
accounts see it (their reminder covers it, or for a brand's announcement their follow;
:mod:`dropbell.live.notices`) and their new unread counts, then pushes a
``notification`` and an ``unread_count`` event to each: the work grows with the
streams this process holds, never with the drop's audience.

A revoked token's streams end at once, in every process (``SessionsRevoked``); an
account holds at most ``max_streams_per_account`` streams in a process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dropbell import errors
from dropbell.accounts.service import Viewer
from dropbell.clock import Clock
from dropbell.config import Settings
from dropbell.context import Context
from dropbell.db import transaction
from dropbell.drops import service as drops
from dropbell.drops.models import Drop
from dropbell.drops.rollout import is_eligible
from dropbell.live import notices as live_notices
from dropbell.live.brokers import Broker
from dropbell.live.events import (
    NoticeReleased,
    NotificationCreated,
    SessionsRevoked,
    UnreadChanged,
    decode,
)
from dropbell.live.publish import Publisher
from dropbell.notifications import service as notifications
from dropbell.notifications.models import Notification
from dropbell.notifications.schemas import NotificationOut
from dropbell.pagination import Page

log = logging.getLogger(__name__)

BACKLOG_LIMIT = 80  # the most a resumed stream catches up on; the list has the rest
QUEUE_LIMIT = 500  # a stream this far behind is closed; the client resumes with Last-Event-ID
# A revoked token id is remembered this long: a stream that read the token just before the
# revocation committed, and subscribes just after its event came, is refused all the same.
REVOKED_MEMORY_SECONDS = 60.0
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


def notification_frame(notification_id: int, body: str, unread: int) -> bytes:
    return (
        f"event: notification\nid: {notification_id}\ndata: {body}\n\n"
        f'event: unread_count\ndata: {{"count":{unread}}}\n\n'
    ).encode()


def count_frame(unread: int) -> bytes:
    return f'event: unread_count\ndata: {{"count":{unread}}}\n\n'.encode()


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
        self._revoked: dict[int, float] = {}  # token id -> when its revocation was heard
        self._ticker: asyncio.Task[None] | None = None
        self._resyncing: asyncio.Task[None] | None = None

    def _ctx(self, session: AsyncSession) -> Context:
        """The presenters' context for a session the hub opened (no request here)."""
        return Context(session, self.clock, self.settings)

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

        Checked several times per period, so streams opened at different moments are
        pinged at different moments: no burst of 10,000 writes at once that would delay
        a launch's delivery.
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
        """A new stream for ``viewer``: 401 if its token was just revoked, 429 past the cap."""
        if viewer.token_id in self._revoked:
            raise errors.Unauthorized("The access token is invalid or was revoked.")
        cap = self.settings.max_streams_per_account
        if len(self.streams.get(viewer.account.id, ())) >= cap:
            # A client gone without closing is noticed by the next keep-alive write.
            retry = math.ceil(self.settings.stream_keepalive_seconds)
            raise errors.RateLimited(
                f"At most {cap} open event streams per account; close one first.",
                headers={"Retry-After": str(retry)},
            )
        sub = Subscriber(viewer=viewer, eligible=is_eligible(self.settings, viewer.caller))
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
        """The first bytes of a stream: the server's time (``clock``, so a page counts down
        from it and not from a device's clock that may be wrong), missed notifications
        (oldest first), then the count."""
        now = self.clock.now().astimezone(UTC).isoformat().replace("+00:00", "Z")
        chunks = [b"retry: 3000\n\n", f'event: clock\ndata: {{"now":"{now}"}}\n\n'.encode()]
        sent: set[int] = set()
        newest = await notifications.list_for(session, sub.account_id, Page(limit=1, max_id=None))
        sub.last_id = newest[0].id if newest else 0
        if last_event_id is not None:
            for item in await self._since(session, sub.viewer, last_event_id):
                body = item.model_dump_json()
                chunks.append(f"event: notification\nid: {item.id}\ndata: {body}\n\n".encode())
                sent.add(item.id)
        chunks.append(count_frame(await notifications.unread_count(session, sub.account_id)))
        return b"".join(chunks), sent

    async def _since(
        self, session: AsyncSession, viewer: Viewer, after_id: int
    ) -> list[NotificationOut]:
        page = Page(limit=BACKLOG_LIMIT - 1, max_id=None)
        items = await notifications.list_for(session, viewer.account.id, page, after_id=after_id)
        items.reverse()
        return await notifications.present(self._ctx(session), items, viewer)

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
        event = decode(payload)
        if isinstance(event, SessionsRevoked):
            self._sessions_revoked(event)
        if not self.streams:
            return
        if isinstance(event, NoticeReleased):
            await self._notice(event.notification_id, event.drop_id)
        elif isinstance(event, UnreadChanged):
            await self._unread(event.account_id)
        elif isinstance(event, NotificationCreated):
            await self._created(event.account_id, event.notification_id)

    def _sessions_revoked(self, event: SessionsRevoked) -> None:
        """End the streams of revoked tokens (all of the account's when no ids are given)."""
        if event.token_ids is not None:
            now = time.monotonic()
            self._revoked = {
                token_id: heard
                for token_id, heard in self._revoked.items()
                if heard > now - REVOKED_MEMORY_SECONDS
            }
            self._revoked.update(dict.fromkeys(event.token_ids, now))
        for sub in list(self.streams.get(event.account_id, ())):
            if event.token_ids is None or sub.viewer.token_id in event.token_ids:
                sub.close()
                self.unsubscribe(sub)

    async def _notice(self, notification_id: int, drop_id: int) -> None:
        t0 = time.perf_counter()
        ids = list(self.streams)
        if not ids:
            return
        async with transaction(self.sessionmaker) as session:
            notice = await session.get(Notification, notification_id)
            drop = await session.get(Drop, drop_id)
            if notice is None or drop is None:
                return
            rows = await live_notices.seers(session, notice, ids)
            base = (await drops.present(self._ctx(session), [drop], None))[0]
        t1 = time.perf_counter()
        bodies: dict[tuple[bool, str, bool], str] = {}
        for row in rows:
            for sub in list(self.streams.get(row.account_id, ())):
                key = (row.reminded, row.offsets, sub.eligible)
                body = bodies.get(key)
                if body is None:
                    body = bodies[key] = live_notices.notice_json(notice, base, *key)
                sub.push(notification_id, notification_frame(notification_id, body, row.unread))
        log.debug(
            "notice %s: %d live streams; query %.0f ms, push %.0f ms",
            notification_id,
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
            sub.push(None, count_frame(count))

    async def _created(self, account_id: int, notification_id: int) -> None:
        subs = self.streams.get(account_id)
        if not subs:
            return
        async with transaction(self.sessionmaker) as session:
            row = await session.get(Notification, notification_id)
            if row is None:
                return
            count = await notifications.unread_count(session, account_id)
            item = notifications.InboxItem(row, row.read_at is not None)
            ctx = self._ctx(session)
            for sub in list(subs):
                shown = (await notifications.present(ctx, [item], sub.viewer))[0]
                sub.push(row.id, notification_frame(row.id, shown.model_dump_json(), count))

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
                sub.push(item.id, notification_frame(item.id, item.model_dump_json(), count))
            sub.push(None, count_frame(count))

        subs = [s for group in list(self.streams.values()) for s in group]
        await asyncio.gather(*(one(s) for s in subs), return_exceptions=True)
