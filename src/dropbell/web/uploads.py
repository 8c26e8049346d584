"""The drop form's image: a file chosen in the console is uploaded with the form (no
script needed), kept as the form's ``media_id`` if the form has to be shown again, and
shown there as the image it will be."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData, UploadFile

from dropbell import errors
from dropbell.accounts.service import Viewer
from dropbell.context import Context
from dropbell.i18n import _
from dropbell.media import service as media
from dropbell.web.forms import Form, say

ALT_NEEDED = "Describe the image for shoppers who cannot see it: say what it shows."


async def take_image(ctx: Context, viewer: Viewer, raw: FormData, form: Form) -> None:
    """The form's chosen file, uploaded: its id becomes the form's ``media_id`` (and the
    link is dropped); a refused file's sentence is put beside the field. "Remove the
    image" takes the upload away. An uploaded image needs its description."""
    chosen = raw.get("image")
    if isinstance(chosen, UploadFile) and chosen.filename:
        try:
            data = await media.read_upload(ctx.settings, chosen)
            upload = await media.upload(ctx, viewer, data)
        except errors.AppError as exc:
            if exc.status in (401, 403):
                raise
            form.errors["image"] = say(exc.detail)
        else:
            form.values["media_id"], form.values["image_url"] = str(upload.id), ""
    if raw.get("image_remove"):
        form.values["media_id"] = ""
    if form.values.get("media_id") and not form.values.get("image_alt"):
        form.errors["image_alt"] = _(ALT_NEEDED)


async def shown_image(ctx: Context, viewer: Viewer, form: Form) -> dict[str, Any] | None:
    """The form's uploaded image as the drop's card shows it (``_picture.html``), if the
    form has one of the brand's."""
    raw = form.values.get("media_id", "")
    if not raw.isdigit():
        return None
    try:
        upload = await media.check_media(ctx.session, viewer.account.id, int(raw))
    except errors.AppError:
        return None
    shown = media.present(ctx.settings, upload)
    return {"image_url": shown.url, "image_sizes": shown.sizes, "image_alt": ""}
