from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import FileResponse

from dropbell import errors
from dropbell.accounts.deps import Ctx, CurrentViewer
from dropbell.deps import AppSettings
from dropbell.media import service, storage
from dropbell.media.schemas import MediaOut

router = APIRouter(prefix="/api/v1/media", tags=["media"])
files_router = APIRouter(tags=["media"])

# A year, and never revalidated: a file's name always means the same bytes.
CACHE_FOREVER = "public, max-age=31536000, immutable"


@router.post(
    "",
    status_code=201,
    response_model=MediaOut,
    responses={415: {"model": errors.ErrorBody, "description": "unsupported_media_type"}},
)
async def upload_media(
    file: Annotated[UploadFile, File(description="A JPEG, PNG or WebP image, at most 10 MB.")],
    viewer: CurrentViewer,
    ctx: Ctx,
) -> MediaOut:
    """Upload an image for a drop (partners only); give its `id` as the drop's `media_id`.

    What it is is read from its bytes, not its name or declared type. EXIF and other
    metadata are removed, the EXIF orientation applied, and it is stored at the sizes the
    pages use, each also as WebP. 413 over 10 MB, 415 not JPEG, PNG or WebP, 422 damaged
    or over 50 megapixels; nothing is kept of a refused file.
    """
    data = await service.read_upload(ctx.settings, file)
    media = await service.upload(ctx, viewer, data)
    return service.present(ctx.settings, media)


@files_router.get(
    "/media/{name}",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}},
)
async def media_file(name: str, settings: AppSettings) -> FileResponse:
    """An uploaded image's file, cached for a year (its name never changes meaning)."""
    path = storage.path_of(settings.media_dir, name)
    if path is None or not path.is_file():
        raise errors.NotFound("No such image.")
    return FileResponse(
        path,
        media_type=storage.content_type(name),
        headers={"Cache-Control": CACHE_FOREVER},
    )
