from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.helpers import Api, User

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def _visitor(api: Api, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """Someone not logged in, from a client address of their own."""
    transport = httpx.ASGITransport(app=api.app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://dropbell.test") as c:
        yield c


async def _stats(api: Api, brand: User, drop: dict[str, Any]) -> dict[str, Any]:
    r = await api.client.get(f"/api/v1/drops/{drop['id']}/stats", headers=brand.headers)
    assert r.status_code == 200, r.text
    return r.json()["shop_clicks"]  # type: ignore[no-any-return]


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
    for n, source in enumerate(("post", "tag", "tag", "drop", "push", None)):
        async with _visitor(api, f"198.51.100.{n + 1}") as visitor:
            params = {"source": source} if source else {}  # no source: the drop page
            r = await visitor.get(f"/drops/{drop['id']}/shop", params=params)
            assert r.status_code == 302
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


async def test_a_script_cannot_inflate_shop_clicks(api: Api) -> None:
    """Each viewer counts once per drop and clock hour: the account when logged in, else
    the client address (an IPv6 /64); the redirect works for every request."""
    brand, shopper = await api.partner(), await api.signup()
    drop = await api.create_drop(brand)
    api.clock.advance(timedelta(hours=2, minutes=10))
    shop = f"/drops/{drop['id']}/shop"
    async with _visitor(api, "203.0.113.9") as script:
        for _ in range(200):
            r = await script.get(shop, params={"source": "tag"})
            assert (r.status_code, r.headers["location"]) == (302, drop["shop_url"])
        assert await _stats(api, brand, drop) == {**NONE, "total": 1, "tag": 1}
        for _ in range(3):  # logged in: the account counts, from whatever address
            r = await script.get(shop, params={"source": "push"}, headers=shopper.headers)
            assert r.status_code == 302
        assert await _stats(api, brand, drop) == {**NONE, "total": 2, "tag": 1, "push": 1}
    for address in ("2001:db8:1:2::1", "2001:db8:1:2:ffff::7", "2001:db8:1:3::1"):
        async with _visitor(api, address) as visitor:
            assert (await visitor.get(shop)).status_code == 302
    assert (await _stats(api, brand, drop))["drop"] == 2  # one /64, then another

    api.clock.advance(timedelta(minutes=50))  # the next hour: everyone counts again
    async with _visitor(api, "203.0.113.9") as script:
        for _ in range(5):
            assert (await script.get(shop, params={"source": "tag"})).status_code == 302
    assert (await _stats(api, brand, drop))["tag"] == 2


async def test_a_script_cannot_inflate_shares(api: Api) -> None:
    brand, shopper = await api.partner(), await api.signup()
    drop = await api.create_drop(brand)
    share = f"/api/v1/posts/{drop['post_id']}/share"
    async with _visitor(api, "203.0.113.9") as script:
        for _ in range(200):
            r = await script.post(share)
            assert r.status_code == 200 and r.json()["url"].endswith(f"/posts/{drop['post_id']}")
        for _ in range(3):
            assert (await script.post(share, headers=shopper.headers)).status_code == 200
    post = (await api.client.get(f"/api/v1/posts/{drop['post_id']}")).json()
    assert post["share_count"] == 2  # the address once, the account once
    api.clock.advance(timedelta(hours=1))
    assert (await api.client.post(share, headers=shopper.headers)).status_code == 200
    post = (await api.client.get(f"/api/v1/posts/{drop['post_id']}")).json()
    assert post["share_count"] == 3


NONE = {"total": 0, "notification": 0, "push": 0, "post": 0, "tag": 0, "drop": 0}
