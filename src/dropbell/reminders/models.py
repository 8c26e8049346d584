from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dropbell.db import Base, UTCDateTime
from dropbell.indexes import partial_index
from dropbell.notifications.models import NotificationType
from dropbell.types import BigId


class Reminder(Base):
    """A period during which a shopper had Remind me set on a drop, with the leads they chose.

    ``created_at`` is when it began, ``ended_at`` when it was undone or its choice of
    leads changed (None while it holds): a shopper has at most one open period per
    drop (a partial unique index), and the closed ones stay, because they say which
    released notices the shopper still sees (what was delivered stays in the inbox).
    ``offsets`` is the chosen leads in seconds, comma-separated, largest first
    (``"86400,900"``; empty: the launch notice only).
    """

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_drop_id_account_id", "drop_id", "account_id"),
        # A shopper's periods, for the inbox (read-time fan-out): on PostgreSQL the index
        # carries what ``covers`` reads, so the join runs on the index alone.
        Index(
            "ix_reminders_account_id_drop_id",
            "account_id",
            "drop_id",
            postgresql_include=["created_at", "ended_at", "offsets"],
        ),
        partial_index(
            "uq_reminders_open", "drop_id", "account_id", where="ended_at IS NULL", unique=True
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    drop_id: Mapped[int] = mapped_column(ForeignKey("drops.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    offsets: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


def format_offsets(offsets: list[int] | tuple[int, ...] | set[int]) -> str:
    """The stored form of a choice of leads: unique, largest first, comma-separated."""
    return ",".join(str(o) for o in sorted(set(offsets), reverse=True))


def parse_offsets(stored: str) -> list[int]:
    return [int(part) for part in stored.split(",") if part]


# Job kinds are the notification types they produce.
SOON, LIVE = NotificationType.DROP_SOON, NotificationType.DROP_LIVE
RESCHEDULED, CANCELLED = NotificationType.DROP_RESCHEDULED, NotificationType.DROP_CANCELLED


class ReminderJobState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    SUPERSEDED = "superseded"  # the drop moved or was cancelled before this fired
    SKIPPED = "skipped"  # a drop_soon that came due after the launch (downtime): never sent


PENDING, DONE = ReminderJobState.PENDING, ReminderJobState.DONE
SUPERSEDED, SKIPPED = ReminderJobState.SUPERSEDED, ReminderJobState.SKIPPED


class ReminderJob(Base):
    """One notice of a drop, released at ``due_at``: a lead (``lead_seconds``), the launch,
    a reschedule or the cancellation.

    Claimed atomically by a worker and released in one transaction (the notice row and
    the job's state commit together); then counted (``counted_at``): how many
    subscribers it reached goes into ``delivered`` and a ``deliveries`` row, for the
    brand's stats.
    """

    __tablename__ = "reminder_jobs"
    __table_args__ = (Index("ix_reminder_jobs_state_due_at", "state", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    drop_id: Mapped[int] = mapped_column(ForeignKey("drops.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    lead_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(12), default=PENDING)
    delivered: Mapped[int] = mapped_column(Integer, default=0)  # the audience, once counted
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    counted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Delivery(Base):
    """How many subscribers a released notice reached, and when it was released."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job_id: Mapped[int] = mapped_column(
        ForeignKey("reminder_jobs.id", ondelete="CASCADE"), index=True
    )
    count: Mapped[int] = mapped_column(Integer)
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime)
