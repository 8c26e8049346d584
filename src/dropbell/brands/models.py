from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from dropbell.db import Base, UTCDateTime
from dropbell.indexes import partial_index
from dropbell.types import BigId


class Follow(Base):
    """A period during which a shopper followed a brand, like a reminder's period.

    ``created_at`` is when it began, ``ended_at`` when the shopper unfollowed (None while
    it holds): at most one open period per shopper and brand (a partial unique index),
    and the closed ones stay, because they say which of the brand's announcements the
    shopper still sees (``drop_announced`` notices, :mod:`dropbell.notifications.audience`).
    Following again begins a new period: nothing announced in between is back-dated.
    """

    __tablename__ = "follows"
    __table_args__ = (
        # A shopper's periods, for the inbox (read-time fan-out): on PostgreSQL the index
        # carries what ``follow_covers`` reads, so the join runs on the index alone.
        Index(
            "ix_follows_account_id_brand_id",
            "account_id",
            "brand_id",
            postgresql_include=["created_at", "ended_at"],
        ),
        # A brand's followers, for the push of an announcement (closed periods too).
        Index("ix_follows_brand_id_account_id", "brand_id", "account_id"),
        # One open period per shopper and brand; also what followers_count counts.
        partial_index(
            "uq_follows_open",
            "brand_id",
            "account_id",
            unique=True,
            where="ended_at IS NULL",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    brand_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
