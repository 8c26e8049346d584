"""POST /api/v1/media: a partner's image, checked by its bytes, cleaned of its metadata,
turned upright, stored at the pages' sizes (and as WebP), served with a year's cache; and
every bad file refused with a sentence, leaving neither a file nor a row."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from dropbell.config import Settings
from dropbell.db import transaction
from dropbell.media.models import Media
from tests.helpers import Api, User
from tests.media import files

pytestmark = pytest.mark.anyio

MB = 1024 * 1024


async def upload(
    api: Api,
    user: User | None,
    data: bytes,
    name: str = "photo.jpg",
    content_type: str = "image/jpeg",
) -> httpx.Response:
    return await api.client.post(
        "/api/v1/media",
        files={"file": (name, data, content_type)},
        headers=user.headers if user else {},
    )


def stored_files(settings: Settings) -> list[Path]:
    root = settings.media_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def media_rows(api: Api) -> int:
    async with transaction(api.app.state.sessionmaker) as session:
        return int(await session.scalar(select(func.count()).select_from(Media)) or 0)


async def fetch(api: Api, url: str) -> httpx.Response:
    return await api.client.get(url.removeprefix("http://dropbell.test"))


async def test_a_phone_photo_is_upright_and_keeps_nothing_of_its_exif(
    api: Api, settings: Settings
) -> None:
    brand = await api.partner()
    r = await upload(api, brand, files.photo_with_exif(1600, 1200, orientation=6))
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    # Turned as the orientation says: 1600 by 1200 sideways is 1200 by 1600 upright, and
    # the largest size fits 1280 wide and twice that tall.
    assert (body["width"], body["height"]) == (1200, 1600)
    assert [(s["width"], s["height"]) for s in body["sizes"]] == [
        (320, 427), (640, 853), (1200, 1600),
    ]  # fmt: skip
    assert body["url"] == body["sizes"][-1]["url"]
    assert body["url"].startswith("http://dropbell.test/media/")

    on_disk = stored_files(settings)
    assert len(on_disk) == 6  # three sizes, each as JPEG and as WebP
    for path in on_disk:
        raw = path.read_bytes()
        assert files.CAMERA.encode() not in raw and b"Exif" not in raw, path.name
        image = Image.open(BytesIO(raw))
        assert image.format == ("WEBP" if path.suffix == ".webp" else "JPEG")
        assert dict(image.getexif()) == {}, path.name
        assert not {"exif", "icc_profile", "xmp"} & set(image.info), path.name
        assert image.height > image.width  # upright in every size
        # The left half of the sideways picture was blue: upright, it is the top.
        top = image.convert("RGB").getpixel((image.width // 2, image.height // 8))
        assert isinstance(top, tuple) and top[2] > 150 > top[0], (path.name, top)
    assert await media_rows(api) == 1


async def test_the_files_are_served_with_a_year_s_cache(api: Api) -> None:
    brand = await api.partner()
    body = (await upload(api, brand, files.photo_with_exif())).json()
    for size in body["sizes"]:
        for url, kind in ((size["url"], "image/jpeg"), (size["webp_url"], "image/webp")):
            r = await fetch(api, url)
            assert r.status_code == 200, url
            assert r.headers["content-type"] == kind
            assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert Image.open(BytesIO(r.content)).size == (size["width"], size["height"])
    # Anyone may fetch an image; nothing but an upload's own files is there.
    for path in (
        "/media/nope.jpg",
        "/media/..%2F..%2Fdropbell.db",
        "/media/" + "a" * 32 + "-1.jpg",
    ):
        assert (await api.client.get(path)).status_code == 404, path


async def test_png_with_transparency_stays_png_and_webp_is_taken(
    api: Api, settings: Settings
) -> None:
    brand = await api.partner()
    r = await upload(api, brand, files.png(800, 500), "logo.png", "image/png")
    assert r.status_code == 201, r.text
    sizes = r.json()["sizes"]
    assert [(s["width"], s["height"]) for s in sizes] == [(320, 200), (640, 400), (800, 500)]
    assert all(s["url"].endswith(".png") and s["webp_url"].endswith(".webp") for s in sizes)
    image = Image.open(BytesIO((await fetch(api, sizes[0]["url"])).content))
    assert image.mode == "RGBA" and image.getpixel((1, 1)) == (0, 0, 0, 0)

    # An opaque PNG needs no transparency: it is kept as JPEG (and WebP), smaller.
    r = await upload(api, brand, files.png(400, 300, transparent=False), "flat.png", "image/png")
    assert r.status_code == 201, r.text
    assert r.json()["url"].endswith(".jpg")

    # WebP, named and declared as anything: its bytes say what it is.
    r = await upload(api, brand, files.webp(900, 600), "upload.bin", "application/octet-stream")
    assert r.status_code == 201, r.text
    assert (r.json()["width"], r.json()["height"]) == (900, 600)
    assert len(stored_files(settings)) == 2 * (3 + 2 + 3)


@pytest.mark.parametrize(
    ("make", "name", "status", "code", "says"),
    [
        (files.pdf, "photo.jpg", 415, "unsupported_media_type", "This file is a PDF document"),
        (files.gif, "photo.gif", 415, "unsupported_media_type", "This file is a GIF image"),
        (lambda: b"plain text, not a picture", "photo.png", 415, "unsupported_media_type",
         "not a JPEG, PNG or WebP image"),
        (files.truncated_jpeg, "photo.jpg", 422, "invalid_image", "damaged or incomplete"),
        (files.decompression_bomb, "tiny.png", 422, "invalid_image", "at most 50 megapixels"),
        (lambda: b"", "empty.jpg", 422, "invalid_image", "The file is empty"),
    ],
)  # fmt: skip
async def test_a_bad_file_is_refused_and_leaves_nothing(
    api: Api, settings: Settings, make: Any, name: str, status: int, code: str, says: str
) -> None:
    brand = await api.partner()
    r = await upload(api, brand, make(), name, "image/jpeg")
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    assert says in r.json()["error"]
    assert stored_files(settings) == []
    assert await media_rows(api) == 0


async def test_a_file_over_10_mb_is_refused_while_it_is_read(api: Api, settings: Settings) -> None:
    brand = await api.partner()
    # 11 MB: refused by its size before the body is read; just over 10 MB: while read.
    for size in (11 * MB, 10 * MB + 1):
        r = await upload(api, brand, files.of_size(size))
        assert r.status_code == 413, (size, r.text)
        assert r.json() == {
            "error": "The file is over 10 MB: upload an image of at most 10 MB.",
            "code": "payload_too_large",
        }
    assert stored_files(settings) == []
    assert await media_rows(api) == 0
    # Other requests are still held to the ordinary limit.
    r = await api.client.post(
        "/api/v1/posts", content=b"{" + b" " * (settings.max_body_bytes + 1) + b"}",
        headers={**brand.headers, "Content-Type": "application/json"},
    )  # fmt: skip
    assert r.status_code == 413


async def test_only_a_partner_uploads(api: Api, settings: Settings) -> None:
    shopper = await api.signup()
    r = await upload(api, shopper, files.photo_with_exif())
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "not_partner"
    r = await upload(api, None, files.photo_with_exif())
    assert r.status_code == 401, r.text
    assert stored_files(settings) == []
    assert await media_rows(api) == 0


async def test_an_upload_whose_request_fails_later_leaves_nothing(
    api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files are written before the row: if the request's transaction then rolls back,
    they go with it (``db.after_rollback``)."""
    from dropbell.media import endpoints

    def broken(*args: object) -> None:
        assert stored_files(settings), "the files were written before the failure"
        raise RuntimeError("the response could not be made")

    monkeypatch.setattr(endpoints.service, "present", broken)
    brand = await api.partner()
    with pytest.raises(RuntimeError):
        await upload(api, brand, files.photo_with_exif())
    assert stored_files(settings) == []
    assert await media_rows(api) == 0
