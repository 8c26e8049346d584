"""A released notice on the live streams: which of a process's connected accounts see it
(ONE query, whatever the audience) and what their stream is sent."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, and_, column, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, bindparam

from dropbell.accounts.schemas import BrandOut
from dropbell.brands.models import Follow
from dropbell.drops.models import DropStatus
from dropbell.drops.schemas import DropOut
from dropbell.notifications import queries as notice_queries
from dropbell.notifications.audience import covers, follow_covers
from dropbell.notifications.models import Notification, NotificationType
from dropbell.notifications.schemas import NotificationOut
from dropbell.reminders.models import Reminder, parse_offsets


def ids_filter(session: AsyncSession, col: Any, ids: list[int]) -> ColumnElement[bool]:
    """``col IN ids`` as one bound parameter, however many ids (no 32k-parameter limit)."""
    if session.get_bind().dialect.name == "postgresql":
        return col == func.any(bindparam("ids", ids, type_=ARRAY(Integer)))  # type: ignore[no-any-return]
    values: Any = select(column("value")).select_from(
        func.json_each(bindparam("ids", json.dumps(ids)))
    )
    return col.in_(values)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Seer:
    """A connected account that sees the notice: whether it has Remind me set on the drop
    now (and with which leads), and its new unread count."""

    account_id: int
    reminded: bool
    offsets: str
    unread: int


async def seers(session: AsyncSession, notice: Notification, ids: list[int]) -> list[Seer]:
    """Which of the accounts ``ids`` see ``notice``: through the period that covers it (a
    reminder's, or for an announcement a follow's), with their unread counts."""
    if notice.type == NotificationType.DROP_ANNOUNCED:
        # Announced with the drop: a follower may have tapped Remind me since.
        reminder = and_(
            Reminder.drop_id == Notification.drop_id,
            Reminder.account_id == Follow.account_id,
            Reminder.ended_at.is_(None),
        )
        query = (
            select(
                Follow.account_id,
                Reminder.id.is_not(None),
                func.coalesce(Reminder.offsets, literal("")),
                notice_queries.unread_count_query(Follow.account_id),
            )
            .join(Notification, follow_covers(Follow, Notification))
            .outerjoin(Reminder, reminder)
            .where(Notification.id == notice.id, ids_filter(session, Follow.account_id, ids))
        )
    else:
        query = (
            select(
                Reminder.account_id,
                Reminder.ended_at.is_(None),
                Reminder.offsets,
                notice_queries.unread_count_query(Reminder.account_id),
            )
            .join(Notification, covers(Reminder, Notification))
            .where(Notification.id == notice.id, ids_filter(session, Reminder.account_id, ids))
        )
    rows = (await session.execute(query)).all()
    return [Seer(a, bool(reminded), offsets or "", count) for a, reminded, offsets, count in rows]


def notice_json(
    notice: Notification,
    base: DropOut,
    reminded: bool,
    offsets: str,
    eligible: bool,
) -> str:
    """A notice as the API's list shows it to a subscriber who has not read it yet (an
    announcement with its brand, as ``account``)."""
    drop = base.model_copy(
        update={
            "reminded": reminded,
            "remindable": eligible and base.status == DropStatus.SCHEDULED,
            "reminder_offsets": parse_offsets(offsets) if reminded else None,
        }
    )
    brand: BrandOut | None = base.brand if notice.type == NotificationType.DROP_ANNOUNCED else None
    return NotificationOut(
        id=notice.id,
        type=notice.type,
        created_at=notice.created_at,
        read=False,
        drop=drop,
        account=brand,
        lead_seconds=notice.lead_seconds,
    ).model_dump_json()
