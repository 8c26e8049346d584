"""The console's drop form takes an image file with the form itself (it works without
the script), asks for its description, keeps an upload when the form has to be shown
again, and says what is wrong with a bad file beside the field, keeping nothing of it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest

from dropbell.config import Settings
from tests.helpers import Api
from tests.media import files
from tests.media.test_upload import media_rows, stored_files
from tests.test_security_brands import _web_login

pytestmark = pytest.mark.anyio

ALT = "A red sneaker, side on"


def _fields(api: Api, csrf: str, **extra: str) -> dict[str, str]:
    return {
        "title": "Red sneaker",
        "launch_at": (api.clock.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "shop_url": "https://shop.example/red",
        "tag": "redsneaker",
        "csrf_token": csrf,
        **extra,
    }


async def _post(api: Api, data: dict[str, str], image: Any = None) -> httpx.Response:
    # Always multipart, as a browser sends the form (an empty file part when none is chosen).
    file = ("photo.jpg", image, "image/jpeg") if image is not None else ("", b"", "")
    return await api.client.post("/console/drops/new", data=data, files={"image": file})


async def test_a_brand_announces_a_drop_with_an_uploaded_image(api: Api) -> None:
    brand = await api.partner()
    csrf = await _web_login(api, brand.username)
    form = await api.client.get("/console/drops/new")
    assert 'enctype="multipart/form-data"' in form.text
    assert 'type="file"' in form.text and 'accept="image/jpeg,image/png,image/webp"' in form.text

    r = await _post(api, _fields(api, csrf, image_alt=ALT, countries="sa, AE"), files.png())
    assert r.status_code == 303, r.text
    (drop,) = (await api.client.get("/api/v1/drops")).json()
    assert drop["media_id"] is not None and drop["image_alt"] == ALT
    assert drop["countries"] == ["AE", "SA"]
    assert drop["image_url"].endswith(".png")

    # The card shows it as <picture>, WebP first, with its size and the brand's words.
    page = (await api.client.get(f"/drops/{drop['id']}")).text
    assert '<source type="image/webp"' in page
    img = re.search(r'<img src="[^"]+\.png"[^>]*>', page)
    assert img, page
    assert f'alt="{ALT}"' in img.group(0) and 'width="800" height="500"' in img.group(0)

    # Editing keeps it (a hidden media_id), shows it, and can take it away.
    edit = await api.client.get(f"/console/drops/{drop['id']}/edit")
    assert f'name="media_id" value="{drop["media_id"]}"' in edit.text
    assert "Remove this image" in edit.text
    r = await api.client.post(
        f"/console/drops/{drop['id']}/edit",
        data={**_fields(api, csrf, media_id=str(drop["media_id"]), image_alt=ALT,
                        countries="AE SA"), "launch_at": "", "image_remove": "1"},
        files={"image": ("", b"", "")},
    )  # fmt: skip
    assert r.status_code == 303, r.text
    after = (await api.client.get(f"/api/v1/drops/{drop['id']}")).json()
    assert (after["media_id"], after["image_url"]) == (None, None)


async def test_an_upload_is_kept_when_the_form_is_shown_again(api: Api) -> None:
    brand = await api.partner()
    csrf = await _web_login(api, brand.username)
    r = await _post(api, _fields(api, csrf), files.photo_with_exif())  # no description
    assert r.status_code == 422
    assert 'id="e-image_alt"' in r.text and "Describe the image" in r.text
    kept = re.search(r'name="media_id" value="(\d+)"', r.text)
    assert kept, r.text
    assert await media_rows(api) == 1
    assert (await api.client.get("/api/v1/drops")).json() == []

    r = await _post(api, _fields(api, csrf, image_alt=ALT, media_id=kept.group(1)))
    assert r.status_code == 303, r.text
    (drop,) = (await api.client.get("/api/v1/drops")).json()
    assert drop["media_id"] == int(kept.group(1))


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (files.pdf(), "This file is a PDF document, not a JPEG, PNG or WebP image"),
        (files.decompression_bomb(), "at most 50 megapixels"),
        (files.of_size(10 * 1024 * 1024 + 1), "The file is over 10 MB"),
    ],
)
async def test_a_bad_file_is_refused_beside_the_field(
    api: Api, settings: Settings, data: bytes, says: str
) -> None:
    brand = await api.partner()
    csrf = await _web_login(api, brand.username)
    r = await _post(api, _fields(api, csrf, image_alt=ALT), data)
    assert r.status_code == 422, r.text[:300]
    error = re.search(r'<p class="error" id="e-image"[^>]*>([^<]*)</p>', r.text)
    assert error and says in error.group(1), r.text
    assert stored_files(settings) == []
    assert await media_rows(api) == 0
    assert (await api.client.get("/api/v1/drops")).json() == []


async def test_an_11_mb_file_gets_a_page_that_says_so(api: Api, settings: Settings) -> None:
    brand = await api.partner()
    csrf = await _web_login(api, brand.username)
    r = await _post(api, _fields(api, csrf, image_alt=ALT), files.of_size(11 * 1024 * 1024))
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("text/html")
    assert "The file is over 10 MB: upload an image of at most 10 MB." in r.text
    assert stored_files(settings) == []
