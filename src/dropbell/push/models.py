"""Web Push tables: the VAPID key, subscriptions, one job per released notice, the ledger."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dropbell.db import Base, UTCDateTime
from dropbell.types import BigId


class JobState(StrEnum):
    """A push job's state (``push_jobs.state``)."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    EXPIRED = "expired"


class DeliveryState(StrEnum):
    """A ledger row's state, one row per (subscription, notice): PENDING, then one of the
    others (``push_deliveries.state``)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    REMOVED = "removed"
    EXPIRED = "expired"


class PushKey(Base):
    """A VAPID key pair (RFC 8292).

    The key in use has ``current`` true; retired keys keep their row with ``current``
    NULL, so the unique key admits one current key even when two processes start at once.
    """

    __tablename__ = "push_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # PKCS#8 PEM. Never logged, never returned by the API.
    private_key: Mapped[str] = mapped_column(Text)
    public_key: Mapped[str] = mapped_column(String(100))  # uncompressed P-256 point, base64url
    current: Mapped[bool | None] = mapped_column(Boolean, unique=True, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    def __repr__(self) -> str:  # the default would be fine too; this one can never show the key
        return f"PushKey(id={self.id}, public_key={self.public_key!r})"


class PushSubscription(Base):
    """A browser's push subscription: one per access token, so one per device."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    access_token_id: Mapped[int] = mapped_column(
        ForeignKey("access_tokens.id", ondelete="CASCADE"), unique=True
    )
    endpoint: Mapped[str] = mapped_column(String(2000))
    p256dh: Mapped[str] = mapped_column(String(100))  # base64url, 65-byte uncompressed point
    auth: Mapped[str] = mapped_column(String(32))  # base64url, 16 bytes
    alerts: Mapped[dict[str, Any]] = mapped_column(JSON)  # {type: bool}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PushJob(Base):
    """One released notice to push to its audience's subscriptions.

    Claimed like ``reminder_jobs``: ``FOR UPDATE SKIP LOCKED`` and a lease. ``cursor`` is
    the last subscription id written to the ledger; ``fanned_out`` says the ledger has
    them all. ``wake_at`` is when the job next needs a worker (its due time, then the
    earliest retry). Nothing is pushed at or after ``expires_at`` (the TTL deadline).
    """

    __tablename__ = "push_jobs"
    __table_args__ = (Index("ix_push_jobs_state_wake_at", "state", "wake_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notification_id: Mapped[int] = mapped_column(BigId, unique=True)
    drop_id: Mapped[int] = mapped_column(BigId, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(12), default=JobState.PENDING)
    cursor: Mapped[int] = mapped_column(BigId, default=0)
    fanned_out: Mapped[bool] = mapped_column(Boolean, default=False)
    lease_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    wake_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class PushDelivery(Base):
    """The ledger: one row per (subscription, notice), so nothing is pushed twice.

    ``subscription_id`` has no foreign key on purpose: the row outlives a subscription the
    push service told us to remove, and the drop's stats count it.
    """

    __tablename__ = "push_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "notification_id"),
        Index("ix_push_deliveries_notification_id_state", "notification_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(BigId)
    notification_id: Mapped[int] = mapped_column(BigId)
    state: Mapped[str] = mapped_column(String(10), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # retry time
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # accepted
    latency_ms: Mapped[int | None] = mapped_column(Integer, default=None)  # the request
    lateness_ms: Mapped[int | None] = mapped_column(Integer, default=None)  # due → accepted
