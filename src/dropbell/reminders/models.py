from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dropbell.db import Base, UTCDateTime
from dropbell.types import BigId


class Reminder(Base):
    """A shopper tapped Remind me on a drop. Clustered on (drop, account) for range fan-out."""

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_account_id", "account_id"),
        {"sqlite_with_rowid": False},
    )

    drop_id: Mapped[int] = mapped_column(
        ForeignKey("drops.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# Job kinds are the notification types they produce.
SOON, LIVE, RESCHEDULED, CANCELLED = "drop_soon", "drop_live", "drop_rescheduled", "drop_cancelled"

# Job states.
PENDING, RUNNING, DONE = "pending", "running", "done"
SUPERSEDED = "superseded"  # the drop moved or was cancelled before this fired
SKIPPED = "skipped"  # a drop_soon that came due after the launch (downtime): never sent


class ReminderJob(Base):
    """One notification to fan out to a drop's subscribers, due at ``due_at``.

    Claimed atomically by a worker for ``lease_until``; ``cursor`` is the last
    subscriber id already delivered, so a fan-out resumes where it stopped.
    """

    __tablename__ = "reminder_jobs"
    __table_args__ = (Index("ix_reminder_jobs_state_due_at", "state", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    drop_id: Mapped[int] = mapped_column(ForeignKey("drops.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(12), default=PENDING)
    cursor: Mapped[int] = mapped_column(BigId, default=0)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Delivery(Base):
    """One committed fan-out batch: how many notifications, and when they were committed."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job_id: Mapped[int] = mapped_column(
        ForeignKey("reminder_jobs.id", ondelete="CASCADE"), index=True
    )
    count: Mapped[int] = mapped_column(Integer)
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime)
