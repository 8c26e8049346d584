from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dropbell.db import Base, UTCDateTime
from dropbell.indexes import partial_index
from dropbell.types import BigId


# The one list of notification types: the API's ``type``, the ``notifications.type``
# column, a push job's ``kind`` and the keys of a push subscription's ``alerts``.
class NotificationType(StrEnum):
    """What a notification is about."""

    DROP_SOON = "drop_soon"
    DROP_LIVE = "drop_live"
    DROP_RESCHEDULED = "drop_rescheduled"
    DROP_CANCELLED = "drop_cancelled"
    # A followed brand announced a drop: a notice found through follows, not reminders.
    DROP_ANNOUNCED = "drop_announced"
    LIKE = "like"
    REPOST = "repost"


# A drop's notices that follow from its reminders (the scheduler's jobs).
DROP_TYPES = (
    NotificationType.DROP_SOON,
    NotificationType.DROP_LIVE,
    NotificationType.DROP_RESCHEDULED,
    NotificationType.DROP_CANCELLED,
)


class Notification(Base):
    """A row of the inbox: a drop's released notice, or a personal notification.

    A **notice** (``account_id`` None) is one row per drop and moment — a lead, the
    launch, a reschedule, the cancellation — written once, when the scheduler releases
    its job (unique ``job_id``: a second copy is impossible). Who sees it follows from
    the reminders (see :mod:`dropbell.notifications.audience`). A ``drop_announced``
    notice is written with the drop it announces (no job), ``actor_id`` the brand, and
    is seen through follows instead. Its read state per
    shopper is a ``notice_reads`` row. ``id`` grows with delivery, so inbox pages keyed
    on it stay stable across a release.

    A **personal** notification (``account_id`` set) is a like or a repost, unique per
    (account, type, post, actor), so a like-unlike-like notifies once. Drop
    notifications written per subscriber before notices existed (migration 0003) are
    personal rows with a ``job_id``.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("uq_notifications_account_id_job_id", "account_id", "job_id", unique=True),
        partial_index(
            "uq_notifications_social",
            "account_id",
            "type",
            "post_id",
            "actor_id",
            unique=True,
            where="job_id IS NULL",
        ),
        partial_index(
            "uq_notifications_notice_job",
            "job_id",
            unique=True,
            where="account_id IS NULL",
        ),
        partial_index(
            "ix_notifications_notice_drop",
            "drop_id",
            "id",
            where="account_id IS NULL",
            # What ``covers`` reads of a notice: the inbox's join runs on the index alone.
            postgresql_include=["type", "lead_seconds", "due_at"],
        ),
        # A brand's announcements (``drop_announced``, ``actor_id`` the brand): what the
        # inbox's join through follows reads.
        partial_index(
            "ix_notifications_notice_actor",
            "actor_id",
            "id",
            where="account_id IS NULL",
            postgresql_include=["type", "due_at"],
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # None for a notice; no FK: personal rows stay lean.
    account_id: Mapped[int | None] = mapped_column(BigId, default=None)
    type: Mapped[str] = mapped_column(String(20))
    drop_id: Mapped[int | None] = mapped_column(BigId, default=None)
    job_id: Mapped[int | None] = mapped_column(BigId, default=None)
    post_id: Mapped[int | None] = mapped_column(BigId, default=None)
    actor_id: Mapped[int | None] = mapped_column(BigId, default=None)
    lead_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # notices
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when it was delivered
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # personal


class NoticeRead(Base):
    """A shopper opened (or read-all'd) a notice."""

    __tablename__ = "notice_reads"
    __table_args__ = {"sqlite_with_rowid": False}

    account_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notification_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DropOpen(Base):
    """The first time a shopper opened a drop notification; feeds the brand's funnel."""

    __tablename__ = "drop_opens"
    __table_args__ = {"sqlite_with_rowid": False}

    notification_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    drop_id: Mapped[int] = mapped_column(BigId, index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
