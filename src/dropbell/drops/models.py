from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dropbell.db import Base, UTCDateTime
from dropbell.types import BigId


class DropStatus(StrEnum):
    """Where a drop stands: scheduled until its launch time, live from then on, cancelled
    once its brand calls it off."""

    SCHEDULED = "scheduled"
    LIVE = "live"
    CANCELLED = "cancelled"


class Drop(Base):
    __tablename__ = "drops"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[str | None] = mapped_column(String(20), default=None)  # a decimal, as text
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    image_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    # The image's alt text, written by the brand ("" when it has not said).
    image_alt: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # An image the brand uploaded (``media.id``; then ``image_url`` is NULL). A plain id,
    # not a foreign key: SQLite can add or drop one only by rebuilding ``drops`` (see
    # migration 0009); the media service checks it is the brand's own upload.
    media_id: Mapped[int | None] = mapped_column(BigId, default=None)
    # Where the drop is sold: ISO 3166-1 alpha-2 codes, upper case, sorted, joined by
    # commas ("AE,SA"); NULL: everywhere (``drops.regions``).
    countries: Mapped[str | None] = mapped_column(String(1000), default=None)
    launch_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    tag: Mapped[str] = mapped_column(String(100), unique=True)  # normalised, without '#'
    # What the tag looks like (dropbell.confusables.skeleton): a new tag that looks like
    # another drop's is refused. NULL only on rows the migration could not read.
    tag_skeleton: Mapped[str | None] = mapped_column(String(1000), default=None, index=True)
    shop_url: Mapped[str] = mapped_column(String(2000))
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("posts.id"), unique=True)
    reminder_count: Mapped[int] = mapped_column(Integer, default=0)
    # Grows on each reschedule; the calendar's SEQUENCE.
    schedule_version: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def status_at(self, now: datetime) -> DropStatus:
        return drop_status(self.launch_at, self.cancelled_at, now)


def drop_status(launch_at: datetime, cancelled_at: datetime | None, now: datetime) -> DropStatus:
    """``cancelled``, ``live`` from ``launch_at`` on, else ``scheduled``."""
    if cancelled_at is not None:
        return DropStatus.CANCELLED
    return DropStatus.LIVE if now >= launch_at else DropStatus.SCHEDULED


class ShopClick(Base):
    """A viewer's tap on Shop on website, and where it came from: one per viewer and hour
    (``once_key``, see ``dropbell.counting``; NULL on clicks counted before migration 0005).
    ``visitor_key`` is the same viewer's key for good (``counting.visitor_key``), so the
    brand's funnel counts a shopper or a visitor once however often they tap (NULL on
    clicks counted before migration 0012).
    """

    __tablename__ = "shop_clicks"
    __table_args__ = (Index("ix_shop_clicks_once", "drop_id", "once_key", unique=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    drop_id: Mapped[int] = mapped_column(ForeignKey("drops.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None
    )
    source: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    once_key: Mapped[str | None] = mapped_column(String(64), default=None)
    visitor_key: Mapped[str | None] = mapped_column(String(64), default=None)


class DropVisit(Base):
    """Someone opened the drop's page, and where from (``source``: a notification in the
    inbox, a push, a post, a tag page, or the page itself): one row per drop, source and
    visitor (``visitor_key``, see ``dropbell.counting``), the first visit's; ``account_id``
    when logged in. Feeds the brand's opens by source and, with the inbox's opens
    (``drop_opens``), the funnel's "opened".
    """

    __tablename__ = "drop_visits"
    __table_args__ = (
        Index("uq_drop_visits_once", "drop_id", "source", "visitor_key", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    drop_id: Mapped[int] = mapped_column(ForeignKey("drops.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None
    )
    visitor_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
