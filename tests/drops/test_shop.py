from __future__ import annotations

from datetime import timedelta

import pytest

from tests.helpers import Api

pytestmark = pytest.mark.anyio


async def test_shop_redirect_records_the_click_and_its_source(api: Api) -> None:
    brand = await api.partner()
    shopper = await api.signup()
    drop = await api.create_drop(brand, shop_url="https://shop.example/bag?size=m")
    api.clock.advance(timedelta(hours=2))
    r = await api.client.get(
        f"/drops/{drop['id']}/shop", params={"source": "notification"}, headers=shopper.headers
    )
    assert r.status_code == 302
    assert r.headers["location"] == "https://shop.example/bag?size=m"
    for source in ("post", "tag", "tag", "drop", "push"):
        r = await api.client.get(f"/drops/{drop['id']}/shop", params={"source": source})
        assert r.status_code == 302
    await api.client.get(f"/drops/{drop['id']}/shop")  # no source: the drop page
    stats = (
        await api.client.get(f"/api/v1/drops/{drop['id']}/stats", headers=brand.headers)
    ).json()
    assert stats["shop_clicks"] == {
        "total": 7,
        "notification": 1,
        "push": 1,
        "post": 1,
        "tag": 2,
        "drop": 2,
    }


@pytest.mark.parametrize(
    "source", ["https://evil.example", "//evil.example", "notification\r\nLocation: x", "x" * 50]
)
async def test_the_redirect_cannot_be_pointed_elsewhere(api: Api, source: str) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand)
    r = await api.client.get(f"/drops/{drop['id']}/shop", params={"source": source})
    assert r.status_code == 422
    assert "location" not in r.headers
    r = await api.client.get(
        f"/drops/{drop['id']}/shop", params={"source": "post", "next": "https://evil.example"}
    )
    assert r.headers["location"] == drop["shop_url"]


async def test_cancelled_or_unknown_drops_do_not_redirect(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand)
    await api.client.post(f"/api/v1/drops/{drop['id']}/cancel", headers=brand.headers)
    r = await api.client.get(f"/drops/{drop['id']}/shop")
    assert r.status_code == 409 and r.json()["code"] == "drop_cancelled"
    assert (await api.client.get("/drops/424242/shop")).status_code == 404
