"""A brand's new drop, announced to its followers: ONE notice, whatever their number.

The ``drop_announced`` notice is written in the transaction that creates the drop (the
request owns it and commits), so a drop is never created without its announcement, nor
announced if its creation rolls back. Its followers find it through their follow periods
when they read (:mod:`dropbell.notifications.audience`); its push is queued in the same
commit, and its live event goes out after it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dropbell.drops.models import Drop
from dropbell.live import publish
from dropbell.notifications.models import Notification, NotificationType
from dropbell.push import jobs as push_jobs


async def announce_drop(session: AsyncSession, drop: Drop, now: datetime) -> Notification:
    """Release ``drop``'s announcement now: due and delivered at ``now`` (a follow that
    begins later does not see it). Flushes; the caller commits."""
    kind = NotificationType.DROP_ANNOUNCED
    notice = Notification(
        account_id=None,
        type=kind,
        drop_id=drop.id,
        actor_id=drop.brand_id,
        due_at=now,
        created_at=now,
    )
    session.add(notice)
    await session.flush()
    await push_jobs.enqueue(
        session,
        notification_id=notice.id,
        drop_id=drop.id,
        kind=kind,
        due_at=now,
        expires_at=push_jobs.expires_at_for(kind, due_at=now, launch_at=drop.launch_at),
    )
    publish.notice_released(session, notice.id, drop.id)
    return notice
