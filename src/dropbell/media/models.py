from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dropbell.db import Base, UTCDateTime
from dropbell.types import BigId


class Media(Base):
    """An image a brand uploaded, as stored: ``sizes`` renditions (``"320x240,640x480"``,
    smallest first), each as ``fallback`` (``jpeg``, or ``png`` for an image with
    transparency) and as WebP, in files named after ``key`` (``media.storage``). The files
    never change: a new image is a new upload."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)  # random hex: the files' stem
    source_format: Mapped[str] = mapped_column(String(4))  # jpeg, png or webp: what was sent
    source_bytes: Mapped[int] = mapped_column(Integer)
    fallback: Mapped[str] = mapped_column(String(4))  # jpeg or png
    sizes: Mapped[str] = mapped_column(String(200))
    stored_bytes: Mapped[int] = mapped_column(Integer)  # every file of it, together
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
