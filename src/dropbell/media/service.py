"""Uploading an image (partners only), and how an uploaded image is shown.

Services flush; the request commits. The files are written before the row, and go again
if the request's transaction rolls back (``db.after_rollback``): a failed upload leaves
neither a file nor a row.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from anyio import to_thread
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from dropbell import errors
from dropbell.accounts.service import Viewer
from dropbell.config import Settings
from dropbell.context import Context
from dropbell.db import after_rollback
from dropbell.media import images, storage
from dropbell.media.models import Media
from dropbell.media.schemas import ImageSize, MediaOut


def too_large(settings: Settings) -> errors.PayloadTooLarge:
    """The 413 of a file over ``DROPBELL_MEDIA_MAX_BYTES``, in a sentence."""
    most = settings.media_max_bytes / 1024 / 1024
    limit = f"{most:g} MB" if most >= 1 else f"{settings.media_max_bytes} bytes"
    return errors.PayloadTooLarge(f"The file is over {limit}: upload an image of at most {limit}.")


async def read_upload(settings: Settings, file: UploadFile) -> bytes:
    """An uploaded file's bytes, reading one byte past the limit at most (413 past it; the
    request's body is capped before, by ``middleware.BodyLimitMiddleware``)."""
    data = await file.read(settings.media_max_bytes + 1)
    if len(data) > settings.media_max_bytes:
        raise too_large(settings)
    return data


async def upload(ctx: Context, viewer: Viewer, data: bytes) -> Media:
    """Check, clean, resize and store an image for ``viewer``'s drops: 403 ``not_partner``,
    413 over the size limit, 415 not JPEG, PNG or WebP, 422 damaged or too many pixels.
    Nothing is kept of a refused file."""
    if not viewer.account.is_partner:  # the same gate as drops.access.require_partner
        raise errors.NotPartner()
    if len(data) > ctx.settings.media_max_bytes:
        raise too_large(ctx.settings)
    processed = await to_thread.run_sync(images.process, data)
    key = storage.new_key()
    paths = await to_thread.run_sync(storage.write, ctx.settings.media_dir, key, processed)
    after_rollback(ctx.session, lambda: storage.remove(paths))
    media = Media(
        brand_id=viewer.account.id,
        key=key,
        source_format=processed.source_format,
        source_bytes=len(data),
        fallback=processed.fallback,
        sizes=",".join(f"{r.width}x{r.height}" for r in processed.renditions),
        stored_bytes=processed.stored_bytes,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(media)
    try:
        await ctx.session.flush()
    except BaseException:
        storage.remove(paths)
        raise
    return media


async def check_media(session: AsyncSession, brand_id: int, media_id: int) -> Media:
    """The upload ``media_id`` if it is the brand's own (422 otherwise, the same for an id
    that does not exist: nobody learns of another brand's uploads)."""
    media = await session.get(Media, media_id)
    if media is None or media.brand_id != brand_id:
        raise errors.Invalid("media_id is not one of your uploads; upload the image first.")
    return media


async def by_ids(session: AsyncSession, media_ids: Collection[int]) -> dict[int, Media]:
    if not media_ids:
        return {}
    rows = await session.scalars(select(Media).where(Media.id.in_(media_ids)))
    return {m.id: m for m in rows}


@dataclass(frozen=True)
class Picture:
    """An uploaded image as pages and the API show it: every size, smallest first."""

    sizes: list[ImageSize]

    @property
    def largest(self) -> ImageSize:
        return self.sizes[-1]


def picture(settings: Settings, key: str, fallback: str, sizes: str) -> Picture:
    """The URLs of an upload's files (``key``, ``fallback`` and ``sizes`` as stored in
    ``media``), absolute on ``DROPBELL_PUBLIC_URL``, like every URL dropbell hands out."""
    base = f"{settings.public_url.rstrip('/')}/media/"
    shown = []
    for size in sizes.split(","):
        width, height = (int(n) for n in size.split("x"))
        shown.append(
            ImageSize(
                width=width,
                height=height,
                url=base + storage.file_name(key, width, fallback),
                webp_url=base + storage.file_name(key, width, "webp"),
            )
        )
    return Picture(shown)


def present(settings: Settings, media: Media) -> MediaOut:
    shown = picture(settings, media.key, media.fallback, media.sizes)
    top = shown.largest
    return MediaOut(id=media.id, url=top.url, width=top.width, height=top.height, sizes=shown.sizes)
