"""A drop's announcement is an ordinary post that goes with its drop."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.helpers import Api
from tests.posts.helpers import delete, get, ok, walk

pytestmark = pytest.mark.anyio


async def test_the_announcement_is_a_post_with_the_drop_as_the_viewer_sees_it(api: Api) -> None:
    brand, shopper = await api.partner(), await api.signup()
    drop = await api.create_drop(brand, title="Air 2030", description="Limited.", tag="Air2030")
    await api.remind(shopper, drop["id"])

    announcement = (await get(api, shopper, drop["post_id"])).json()
    assert announcement["author"]["id"] == brand.id
    assert announcement["text"] == "Air 2030 — Limited. #air2030"
    assert announcement["tags"] == ["air2030"]
    assert announcement["drop"]["id"] == drop["id"]
    assert announcement["drop"]["reminded"] is True
    assert announcement["drop"]["status"] == "scheduled"
    assert (await get(api, None, drop["post_id"])).json()["drop"]["reminded"] is False

    timeline = await walk(api, "/api/v1/timelines/public", shopper)
    assert [p["id"] for p in timeline] == [drop["post_id"]]
    assert timeline[0]["drop"]["reminded"] is True


async def test_the_announcement_can_be_liked_reposted_bookmarked_and_shared(api: Api) -> None:
    brand, shopper = await api.partner(), await api.signup()
    drop = await api.create_drop(brand)
    for action in ("like", "repost", "bookmark", "share"):
        await ok(api, shopper, drop["post_id"], action)
    shown = (await get(api, shopper, drop["post_id"])).json()
    assert [shown[k] for k in ("like_count", "repost_count", "bookmark_count", "share_count")] == [
        1,
        1,
        1,
        1,
    ]
    [entry, _] = await walk(api, "/api/v1/timelines/public", shopper)
    assert entry["reblog"]["drop"]["id"] == drop["id"]


async def test_the_announcement_cannot_be_deleted_on_its_own(api: Api) -> None:
    brand, shopper = await api.partner(), await api.signup()
    drop = await api.create_drop(brand)
    await ok(api, shopper, drop["post_id"], "like")

    r = await delete(api, brand, drop["post_id"])
    assert r.status_code == 409
    assert r.json()["code"] == "drop_post"
    r = await delete(api, shopper, drop["post_id"])
    assert r.status_code == 403
    shown = (await get(api, shopper, drop["post_id"])).json()
    assert shown["like_count"] == 1
    assert shown["drop"]["id"] == drop["id"]


async def test_a_cancelled_or_launched_drops_post_stays(api: Api) -> None:
    brand = await api.partner()
    cancelled = await api.create_drop(brand)
    launched = await api.create_drop(brand, in_=timedelta(minutes=30))
    r = await api.client.post(f"/api/v1/drops/{cancelled['id']}/cancel", headers=brand.headers)
    assert r.status_code == 200
    api.clock.advance(timedelta(hours=1))

    statuses = {
        p["drop"]["id"]: p["drop"]["status"] for p in await walk(api, "/api/v1/timelines/public")
    }
    assert statuses == {cancelled["id"]: "cancelled", launched["id"]: "live"}
