"""Who sees a released notice: read-time fan-out.

A notice is one row (``notifications`` with ``account_id`` None). A shopper sees it
when one of their reminder periods on its drop

- began no later than the notice was due (a late subscriber gets nothing back-dated),
- had not ended by then (undoing Remind me stops what is still to come; what was
  already due stays), and
- for a lead notice (``drop_soon``), chose that lead.

Periods are judged at the notice's due time, never its release: a shopper's periods
on one drop follow one another without overlap or gap (a new choice of leads ends one and
begins the next at the same instant), so exactly one period, or none, covers a notice:
exactly once is structural, and a change of leads between a notice's due time and its
release cannot lose the launch. What a released notice's audience is can no longer
change (periods begin and end at "now", which is past its due time). The launch,
reschedule and cancellation notices reach every covering period, whatever leads it
chose.

A brand's announcement of a new drop (``drop_announced``, ``actor_id`` the brand, due
when the drop was created) is found the same way through **follow** periods instead
(:class:`dropbell.brands.models.Follow`): a follower whose period on the brand began no
later than the announcement and had not ended by then sees it, once; someone who follows
afterwards gets nothing back-dated, and unfollowing stops what is still to come. A
reminder never covers an announcement, nor a follow any other notice, so the two ways
never show one notice twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, and_, cast, literal, or_, select
from sqlalchemy.sql import ColumnElement, Select

from dropbell.brands.models import Follow
from dropbell.notifications.models import Notification, NotificationType
from dropbell.reminders.models import SOON, Reminder


def covers(reminder: Any = Reminder, notice: Any = Notification) -> ColumnElement[bool]:
    """The join condition: ``reminder`` (a period) makes ``notice`` visible to its shopper."""
    chose_lead = (literal(",") + reminder.offsets + literal(",")).like(
        literal("%,") + cast(notice.lead_seconds, String) + literal(",%")
    )
    return and_(
        reminder.drop_id == notice.drop_id,
        reminder.created_at <= notice.due_at,
        or_(reminder.ended_at.is_(None), reminder.ended_at > notice.due_at),
        or_(notice.type != SOON, chose_lead),
        notice.type != NotificationType.DROP_ANNOUNCED,
    )


def follow_covers(follow: Any = Follow, notice: Any = Notification) -> ColumnElement[bool]:
    """The join condition: ``follow`` (a period) makes ``notice`` (an announcement of the
    followed brand) visible to its shopper."""
    return and_(
        follow.brand_id == notice.actor_id,
        notice.type == NotificationType.DROP_ANNOUNCED,
        follow.created_at <= notice.due_at,
        or_(follow.ended_at.is_(None), follow.ended_at > notice.due_at),
    )


def audience_accounts(notice: Any) -> Select[Any]:
    """The account ids that see ``notice`` (a released notice row, or anything with its
    ``drop_id``, ``type``, ``lead_seconds``, ``actor_id`` and ``due_at``)."""
    if notice.type == NotificationType.DROP_ANNOUNCED:
        return select(Follow.account_id).where(
            Follow.brand_id == notice.actor_id,
            Follow.created_at <= notice.due_at,
            or_(Follow.ended_at.is_(None), Follow.ended_at > notice.due_at),
        )
    chose_lead = (literal(",") + Reminder.offsets + literal(",")).like(f"%,{notice.lead_seconds},%")
    query = select(Reminder.account_id).where(
        Reminder.drop_id == notice.drop_id,
        Reminder.created_at <= notice.due_at,
        or_(Reminder.ended_at.is_(None), Reminder.ended_at > notice.due_at),
    )
    if notice.type == SOON:
        query = query.where(chose_lead)
    return query
