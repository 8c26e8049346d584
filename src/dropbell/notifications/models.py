from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from dropbell.db import Base, UTCDateTime
from dropbell.types import BigId

DROP_TYPES = ("drop_soon", "drop_live", "drop_rescheduled", "drop_cancelled")
SOCIAL_TYPES = ("like", "repost")
TYPES = DROP_TYPES + SOCIAL_TYPES


class Notification(Base):
    """A row in a shopper's inbox.

    Drop notifications carry the job that made them; the unique
    (account_id, job_id) key makes a second copy impossible, whichever worker
    or retry tries to insert it. Social ones are unique per (account, type,
    post, actor), so a like-unlike-like notifies once.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("uq_notifications_account_id_job_id", "account_id", "job_id", unique=True),
        Index(
            "uq_notifications_social",
            "account_id",
            "type",
            "post_id",
            "actor_id",
            unique=True,
            sqlite_where=text("job_id IS NULL"),
            postgresql_where=text("job_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigId)  # no FK: keeps the million-row fan-out lean
    type: Mapped[str] = mapped_column(String(20))
    drop_id: Mapped[int | None] = mapped_column(BigId, default=None)
    job_id: Mapped[int | None] = mapped_column(BigId, default=None)
    post_id: Mapped[int | None] = mapped_column(BigId, default=None)
    actor_id: Mapped[int | None] = mapped_column(BigId, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when it was due
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class DropOpen(Base):
    """The first time a drop notification was opened (read); feeds the brand's funnel."""

    __tablename__ = "drop_opens"

    notification_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    drop_id: Mapped[int] = mapped_column(BigId, index=True)
    account_id: Mapped[int] = mapped_column(BigId)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
