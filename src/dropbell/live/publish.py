"""Publishing live events, always after commit. Imports no domain module.

Services call :func:`unread_changed`, :func:`notification_created`,
:func:`notice_released` and :func:`sessions_revoked` inside their transaction; the event
goes out once it commits (never if it rolls back). The scheduler publishes each released
notice with :meth:`Publisher.notice_released` after the release has committed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dropbell.db import after_commit
from dropbell.live.brokers import Broker
from dropbell.live.events import (
    Event,
    NoticeReleased,
    NotificationCreated,
    SessionsRevoked,
    UnreadChanged,
    encode,
)

log = logging.getLogger(__name__)

PUBLISHER_KEY = "dropbell.events"  # where a session finds the publisher (session.info)


class Publisher:
    """What the scheduler and the services use to announce changes (never before commit)."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    async def publish(self, event: Event) -> None:
        try:
            await self.broker.publish(encode(event))
        except Exception:  # a lost live event must never break delivery to the inbox
            log.exception("could not publish a live event")

    async def notice_released(self, notification_id: int, drop_id: int) -> None:
        """Called by the scheduler after a release has committed."""
        await self.publish(NoticeReleased(notification_id, drop_id))


def attach(sessionmaker: async_sessionmaker[AsyncSession], publisher: Publisher) -> None:
    """Sessions from ``sessionmaker`` can announce changes (see :func:`unread_changed`)."""
    sessionmaker.kw.setdefault("info", {})[PUBLISHER_KEY] = publisher


def _after_commit(session: AsyncSession, event: Event) -> None:
    publisher: Publisher | None = session.info.get(PUBLISHER_KEY)
    if publisher is not None:
        after_commit(session, lambda: publisher.publish(event))


def unread_changed(session: AsyncSession, account_id: int) -> None:
    """After this transaction commits, tell ``account_id``'s live streams the count changed."""
    _after_commit(session, UnreadChanged(account_id))


def notice_released(session: AsyncSession, notification_id: int, drop_id: int) -> None:
    """After commit, a notice released inside a request (a brand's announcement of a new
    drop) goes to the streams of those who see it, like the scheduler's releases."""
    _after_commit(session, NoticeReleased(notification_id, drop_id))


def notification_created(session: AsyncSession, account_id: int, notification_id: int) -> None:
    """After commit, push one personal notification (a like, a repost) to its account."""
    _after_commit(session, NotificationCreated(account_id, notification_id))


def sessions_revoked(
    session: AsyncSession, account_id: int, token_ids: Iterable[int] | None = None
) -> None:
    """After commit, end the open live streams of these revoked tokens, in every process.

    ``token_ids`` None ends every stream of the account (log out everywhere); prefer the
    ids when they are known (a stream opened in the instant of the revocation is closed
    too, see ``Hub.subscribe``).
    """
    ids = None if token_ids is None else sorted(set(token_ids))
    if ids == []:
        return
    _after_commit(session, SessionsRevoked(account_id, ids))
