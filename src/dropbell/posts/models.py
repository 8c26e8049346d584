"""Posts and what people do with them: like, repost, bookmark, share.

Every counter on :class:`Post` equals the rows behind it: it moves only in the
transaction that inserted or deleted such a row (see ``posts/service.py``).

A repost has a row of its own in ``posts`` (as a reblog is a status in
Mastodon): its author is the reposter, its text is empty, and a ``reposts``
row links it to the original. That puts reposts in the same id sequence as
posts, so the public timeline is one index scan over ``posts.id`` and
``max_id`` means the same thing for a post and a repost.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dropbell.db import Base, UTCDateTime
from dropbell.indexes import partial_index
from dropbell.types import BigId

if TYPE_CHECKING:
    from dropbell.accounts.models import Account
    from dropbell.drops.models import Drop


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        # The public timeline: live posts and reposts, newest id first.
        partial_index("ix_posts_timeline", "id", where="deleted_at IS NULL"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    author_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    repost_count: Mapped[int] = mapped_column(Integer, default=0)
    bookmark_count: Mapped[int] = mapped_column(Integer, default=0)
    share_count: Mapped[int] = mapped_column(Integer, default=0)

    # Loaded only on purpose (posts.service.DETAILS), never lazily behind a loop.
    author: Mapped[Account] = relationship(lazy="raise")
    # On a repost's row: its link to the original (see ``reblog_of``).
    as_repost: Mapped[Repost | None] = relationship(
        lazy="raise",
        primaryjoin="Post.id == Repost.post_id",
        foreign_keys="Repost.post_id",
        uselist=False,
        viewonly=True,
    )
    # The drop this post announces, if any (drops.post_id).
    drop: Mapped[Drop | None] = relationship(
        lazy="raise", primaryjoin="Drop.post_id == Post.id", uselist=False, viewonly=True
    )

    @property
    def reblog_of(self) -> Post | None:
        """On a repost's row: the post it repeats (never itself a repost). Needs DETAILS."""
        return self.as_repost.original if self.as_repost is not None else None


class PostTag(Base):
    """A hashtag a post carries, normalised (NFKC, case-folded)."""

    __tablename__ = "post_tags"
    __table_args__ = (Index("ix_post_tags_tag_post_id", "tag", "post_id"),)

    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)


class Repost(Base):
    """An account reposted a post; ``post_id`` is the repost's own row in ``posts``.

    (reblog_of_id, account_id) is unique: one repost per account and post, and
    the index behind "did the viewer repost these?" and a post's repost count.
    """

    __tablename__ = "reposts"
    __table_args__ = (UniqueConstraint("reblog_of_id", "account_id"),)

    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    reblog_of_id: Mapped[int] = mapped_column(BigId, ForeignKey("posts.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    original: Mapped[Post] = relationship(lazy="raise", foreign_keys=[reblog_of_id])


class Like(Base):
    """An account likes a post. Clustered on (post, account): one like each, cheap lookups."""

    __tablename__ = "likes"
    __table_args__ = {"sqlite_with_rowid": False}

    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Bookmark(Base):
    """A post an account saved for later; private to that account.

    The id orders the account's bookmarks (newest first) and is the ``max_id``
    cursor of ``GET /api/v1/bookmarks``.
    """

    __tablename__ = "bookmarks"
    __table_args__ = (
        UniqueConstraint("account_id", "post_id"),
        Index("ix_bookmarks_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Share(Base):
    """A viewer's tap on Share (an account, or someone not signed in): one per viewer and
    hour (``once_key``, see ``dropbell.counting``; NULL on shares before migration 0005)."""

    __tablename__ = "post_shares"
    __table_args__ = (Index("ix_post_shares_once", "post_id", "once_key", unique=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("accounts.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    once_key: Mapped[str | None] = mapped_column(String(64), default=None)
