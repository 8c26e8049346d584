"""A drop's image: an upload of the brand's (``media_id``) or a link (``image_url``), never
both; and how it is shown (an upload's URLs are dropbell's own, absolute)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from dropbell import errors
from dropbell.config import Settings
from dropbell.drops.models import Drop
from dropbell.media import service as media
from dropbell.media.models import Media
from dropbell.media.service import Picture

BOTH = "media_id and image_url cannot both be given: an uploaded image, or a link."


class Fields(Protocol):
    """A create's or an edit's fields by name (a dict), as far as ``check_image`` needs
    them: it reads two, and may set one to None."""

    def get(self, key: str, /) -> object: ...
    def __setitem__(self, key: str, value: None, /) -> None: ...


async def check_image(
    session: AsyncSession,
    brand_id: int,
    changes: Fields,
    check_url: Callable[[str], object],
    *,
    was_url: str | None = None,
) -> None:
    """Check the image fields of a create or an edit (``changes``, as given) and make them
    exclusive: a new upload drops the link, a new link drops the upload. ``media_id`` must
    be the brand's own upload (422); ``check_url(url)`` checks a link that is new (not
    ``was_url``, which the edit form sends back as it was). ``changes``: fields by name, as
    the schemas give them (``media_id`` an int, ``image_url`` a str, or None)."""
    media_id, image_url = changes.get("media_id"), changes.get("image_url")
    if media_id is not None and image_url is not None:
        raise errors.Invalid(BOTH)
    if isinstance(media_id, int):
        await media.check_media(session, brand_id, media_id)
        changes["image_url"] = None
    elif isinstance(image_url, str):
        if image_url != was_url:
            check_url(image_url)
        changes["media_id"] = None


def picture_of(settings: Settings, upload: Media | None) -> Picture | None:
    """An uploaded image as shown (None without one)."""
    if upload is None:
        return None
    return media.picture(settings, upload.key, upload.fallback, upload.sizes)


async def push_icon(session: AsyncSession, settings: Settings, drop: Drop) -> str | None:
    """What a push about ``drop`` shows as its icon: an upload's smallest size (a
    notification's icon is small), else the drop's link (None: neither)."""
    if drop.media_id is None:
        return drop.image_url
    shown = picture_of(settings, await session.get(Media, drop.media_id))
    return shown.sizes[0].url if shown else None


class MediaColumns(Protocol):
    """A row with an upload's columns from a LEFT JOIN on ``media``: NULL without one."""

    @property
    def media_key(self) -> str | None: ...
    @property
    def media_fallback(self) -> str | None: ...
    @property
    def media_sizes(self) -> str | None: ...


def picture_from_row(settings: Settings, row: MediaColumns) -> Picture | None:
    """The same from a row with ``media_key``, ``media_fallback`` and ``media_sizes``
    (all three NULL without an upload)."""
    key, fallback, sizes = row.media_key, row.media_fallback, row.media_sizes
    if key is None or fallback is None or sizes is None:
        return None
    return media.picture(settings, key, fallback, sizes)
