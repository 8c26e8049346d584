"""The search index: each searchable thing's words in their plain form (``search.text``).

One row per post, drop and partner brand that search can find, written by the service
that owns the change in the same transaction (``search.index``). The full-text indexes
over ``search_text`` are the database's own and so are not described here (migration
0011 makes them): on SQLite an FTS5 table per index (``post_search_fts``, …, external
content kept in step by triggers), on PostgreSQL a generated ``search_vector`` column
(``to_tsvector('simple', search_text)``, stored) with a GIN index.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dropbell.db import Base
from dropbell.types import BigId


class PostSearch(Base):
    """A live post's words (not a repost's, not a drop's announcement: the drop is found
    as itself). Deleting the post deletes the row."""

    __tablename__ = "post_search"

    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    search_text: Mapped[str] = mapped_column(Text)


class DropSearch(Base):
    """A drop's title, description and tag, while it is not cancelled."""

    __tablename__ = "drop_search"

    drop_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("drops.id", ondelete="CASCADE"), primary_key=True
    )
    search_text: Mapped[str] = mapped_column(Text)


class AccountSearch(Base):
    """A partner brand's username and display name (shoppers are not searchable)."""

    __tablename__ = "account_search"

    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    search_text: Mapped[str] = mapped_column(Text)


class Hashtag(Base):
    """A hashtag in use: its plain form (for prefix search) and how many live posts carry
    it (moved with the ``post_tags`` rows, in the same transaction)."""

    __tablename__ = "hashtags"
    __table_args__ = (
        # Prefix search (``LIKE 'caf%'`` on PostgreSQL needs the pattern operator class
        # whatever the database's collation; SQLite compares bytes, and uses it as is).
        Index(
            "ix_hashtags_search_text",
            "search_text",
            postgresql_ops={"search_text": "text_pattern_ops"},
        ),
    )

    tag: Mapped[str] = mapped_column(String(100), primary_key=True)  # posts.tags' normal form
    search_text: Mapped[str] = mapped_column(String(400))
    post_count: Mapped[int] = mapped_column(Integer, default=0)
