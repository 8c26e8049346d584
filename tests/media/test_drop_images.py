"""A drop's image: an upload of the brand's own (``media_id``) or an https link
(``image_url``), never both; the Drop shows an upload at dropbell's public URL, with its
sizes, wherever the drop is shown (its own GET, lists, timelines, Remind me)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from dropbell.clock import FakeClock
from dropbell.config import Settings
from dropbell.reminders.scheduler import Scheduler
from tests.helpers import Api, User
from tests.media import files
from tests.media.test_upload import upload

pytestmark = pytest.mark.anyio


async def uploaded(api: Api, brand: User) -> dict[str, Any]:
    r = await upload(api, brand, files.photo_with_exif(1600, 1200, orientation=1))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_a_drop_with_an_upload_shows_it_everywhere(api: Api) -> None:
    brand = await api.partner()
    image = await uploaded(api, brand)
    drop = await api.create_drop(brand, media_id=image["id"], image_alt="A red sneaker")
    assert drop["media_id"] == image["id"]
    assert drop["image_url"] == image["url"]
    assert drop["image_url"].startswith("http://dropbell.test/media/")
    assert drop["image_sizes"] == image["sizes"]
    assert drop["image_alt"] == "A red sneaker"

    shopper = await api.signup()
    seen = [
        (await api.client.get(f"/api/v1/drops/{drop['id']}")).json(),
        (await api.client.get("/api/v1/drops")).json()[0],
        next(p["drop"] for p in (await api.client.get("/api/v1/timelines/public")).json()),
        (await api.client.get(f"/api/v1/tags/{drop['tag']}")).json()["drop"],
        (await api.remind(shopper, drop["id"])).json(),
    ]
    for shown in seen:
        assert (shown["image_url"], shown["media_id"]) == (image["url"], image["id"])
        assert shown["image_sizes"] == image["sizes"]
    # The URL it gives is the image itself.
    r = await api.client.get(drop["image_url"].removeprefix("http://dropbell.test"))
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"


async def test_a_link_still_works_and_says_no_sizes(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand, image_url="https://cdn.shop.example/bag.jpg")
    assert (drop["image_url"], drop["media_id"], drop["image_sizes"]) == (
        "https://cdn.shop.example/bag.jpg", None, None,
    )  # fmt: skip


async def test_another_brand_s_upload_is_refused(api: Api) -> None:
    mine, theirs = await api.partner(), await api.partner()
    image = await uploaded(api, theirs)
    body = {
        "title": "Copy", "launch_at": "2030-01-02T12:00:00Z",
        "shop_url": "https://shop.example/x", "tag": "copycat",
    }  # fmt: skip
    for media_id in (image["id"], image["id"] + 1000):  # theirs, and one that is nobody's
        r = await api.client.post(
            "/api/v1/drops", headers=mine.headers, json={**body, "media_id": media_id}
        )
        assert r.status_code == 422, r.text
        assert r.json() == {
            "error": "media_id is not one of your uploads; upload the image first.",
            "code": "invalid",
        }
    drop = await api.create_drop(mine)
    r = await api.client.patch(
        f"/api/v1/drops/{drop['id']}", headers=mine.headers, json={"media_id": image["id"]}
    )
    assert r.status_code == 422, r.text
    assert (await api.client.get(f"/api/v1/drops/{drop['id']}")).json()["media_id"] is None


async def test_an_upload_or_a_link_never_both(api: Api) -> None:
    brand = await api.partner()
    image = await uploaded(api, brand)
    r = await api.client.post(
        "/api/v1/drops",
        headers=brand.headers,
        json={
            "title": "Both", "launch_at": "2030-01-02T12:00:00Z", "tag": "both",
            "shop_url": "https://shop.example/x", "media_id": image["id"],
            "image_url": "https://cdn.shop.example/x.jpg",
        },
    )  # fmt: skip
    assert r.status_code == 422, r.text
    assert "cannot both be given" in r.json()["error"]


async def test_patch_swaps_between_an_upload_and_a_link(api: Api) -> None:
    brand = await api.partner()
    image = await uploaded(api, brand)
    drop = await api.create_drop(brand, image_url="https://cdn.shop.example/old.jpg")
    url = f"/api/v1/drops/{drop['id']}"

    r = await api.client.patch(url, headers=brand.headers, json={"media_id": image["id"]})
    assert r.status_code == 200, r.text
    assert (r.json()["media_id"], r.json()["image_url"]) == (image["id"], image["url"])

    r = await api.client.patch(
        url, headers=brand.headers, json={"image_url": "https://cdn.shop.example/new.jpg"}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["media_id"], r.json()["image_url"]) == (
        None, "https://cdn.shop.example/new.jpg",
    )  # fmt: skip

    r = await api.client.patch(url, headers=brand.headers, json={"media_id": image["id"]})
    r = await api.client.patch(url, headers=brand.headers, json={"media_id": None})
    assert r.status_code == 200, r.text
    assert (r.json()["media_id"], r.json()["image_url"], r.json()["image_sizes"]) == (
        None, None, None,
    )  # fmt: skip


async def test_the_inbox_shows_the_uploaded_image(
    api: Api, clock: FakeClock, scheduler: Scheduler
) -> None:
    brand = await api.partner()
    image = await uploaded(api, brand)
    drop = await api.create_drop(brand, media_id=image["id"], in_=timedelta(minutes=30))
    shopper = await api.signup()
    assert (await api.remind(shopper, drop["id"])).status_code == 200
    clock.advance(timedelta(minutes=16))
    await scheduler.run_due()
    (notice,) = await api.inbox(shopper)
    assert notice["type"] == "drop_soon"
    assert (notice["drop"]["image_url"], notice["drop"]["image_sizes"]) == (
        image["url"], image["sizes"],
    )  # fmt: skip


async def test_a_push_shows_the_upload_as_its_icon(api: Api, settings: Settings) -> None:
    """A push's icon is the upload's smallest size, at the public URL (https in
    production; a push service shows only an https icon, else dropbell's own)."""
    import json

    from dropbell.accounts.models import Account
    from dropbell.db import transaction
    from dropbell.drops.images import push_icon
    from dropbell.drops.models import Drop
    from dropbell.push import payload

    brand = await api.partner()
    image = await uploaded(api, brand)
    drop = await api.create_drop(brand, media_id=image["id"])
    secure = Settings(**{**settings.model_dump(), "public_url": "https://drops.example"})
    async with transaction(api.app.state.sessionmaker) as session:
        row = await session.get_one(Drop, drop["id"])
        icon = await push_icon(session, secure, row)
        assert icon == image["sizes"][0]["url"].replace(
            "http://dropbell.test", "https://drops.example"
        )
        message = payload.build(
            notification_id=1, kind="drop_live", drop=row,
            brand=await session.get_one(Account, row.brand_id),
            public_url=secure.public_url, due_at=api.clock.now(), expires_at=api.clock.now(),
            image_url=icon,
        )  # fmt: skip
    assert json.loads(message.payload)["icon"] == icon
