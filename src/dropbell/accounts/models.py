from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dropbell.db import Base, UTCDateTime
from dropbell.types import BigId


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(30), unique=True)  # stored lower-case
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(60))
    country: Mapped[str] = mapped_column(String(2))
    language: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    is_partner: Mapped[bool] = mapped_column(Boolean, default=False)
    # A partner's names as they look (dropbell.confusables.name_skeletons: the display
    # name's two, the username's), kept while it is a partner (else NULL): nobody else
    # may take a display name that looks like them.
    name_skeleton: Mapped[str | None] = mapped_column(String(1000), default=None, index=True)
    name_skeleton_cased: Mapped[str | None] = mapped_column(String(1000), default=None, index=True)
    username_skeleton: Mapped[str | None] = mapped_column(String(1000), default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    shop_domains: Mapped[list[ShopDomain]] = relationship(
        lazy="raise", order_by="ShopDomain.domain", cascade="all, delete-orphan"
    )


class ShopDomain(Base):
    """A domain an operator approved for a partner's shop links (subdomains included)."""

    __tablename__ = "shop_domains"
    __table_args__ = (UniqueConstraint("account_id", "domain"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253))


class AccessToken(Base):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    platform: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # When it was last used, written at most once per TOKEN_TOUCH_SECONDS; NULL: not
    # since it was issued (tokens from before migration 0006). Idle too long: refused.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
