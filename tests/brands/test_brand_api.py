"""A brand's public page (``GET /api/v1/accounts/{username}``) and following it: who may
follow whom, idempotent toggles, and what the page tells each caller (docs/api.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.helpers import Api

pytestmark = pytest.mark.anyio


async def test_the_page_shows_public_fields_and_upcoming_drops_in_launch_order(
    api: Api,
) -> None:
    brand = await api.partner("maison_test", domains=("shop.example", "maison.example"))
    later = await api.create_drop(brand, title="Later", in_=timedelta(days=3))
    soon = await api.create_drop(brand, title="Soon", in_=timedelta(hours=2))
    live = await api.create_drop(brand, title="Live", in_=timedelta(minutes=5))
    cancelled = await api.create_drop(brand, title="Off", in_=timedelta(days=1))
    r = await api.client.post(f"/api/v1/drops/{cancelled['id']}/cancel", headers=brand.headers)
    assert r.status_code == 200, r.text
    api.clock.set(datetime.fromisoformat(live["launch_at"]))
    r = await api.client.get("/api/v1/accounts/Maison_Test")  # any case, no token
    assert r.status_code == 200, r.text
    page = r.json()
    assert set(page) == {
        "id",
        "username",
        "display_name",
        "is_partner",
        "shop_domains",
        "upcoming_drops",
        "followers_count",
        "following",
    }  # never the country, language or time zone of someone else
    assert page["id"] == brand.id and page["username"] == "maison_test"
    assert page["is_partner"] is True
    assert page["shop_domains"] == ["maison.example", "shop.example"]
    assert [d["id"] for d in page["upcoming_drops"]] == [soon["id"], later["id"]]
    assert page["upcoming_drops"][0]["brand"]["username"] == "maison_test"
    assert page["followers_count"] == 0 and page["following"] is False


async def test_an_unknown_username_is_a_readable_404(api: Api) -> None:
    r = await api.client.get("/api/v1/accounts/nobody_here")
    assert r.status_code == 404
    assert r.json() == {
        "error": "There is no account @nobody_here on dropbell.",
        "code": "not_found",
    }
    for weird in ("%3Cscript%3E", "a%00b", "x" * 64):  # never echoed, never a 500
        r = await api.client.get(f"/api/v1/accounts/{weird}")
        assert r.status_code == 404, r.text
        assert r.json() == {"error": "There is no such account on dropbell.", "code": "not_found"}
    me = await api.signup()
    r = await api.client.get("/api/v1/accounts/me", headers=me.headers)
    assert r.status_code == 200 and r.json()["country"] == "US"  # /me is still the caller


async def test_follow_and_unfollow_are_idempotent(api: Api) -> None:
    brand, fan, other = await api.partner(), await api.signup(), await api.signup()
    path = f"/api/v1/accounts/{brand.id}"
    for _ in range(2):
        r = await api.client.post(f"{path}/follow", headers=fan.headers)
        assert r.status_code == 200 and r.json() == {"following": True}
    await api.client.post(f"{path}/follow", headers=other.headers)
    page = (await api.client.get(f"/api/v1/accounts/{brand.username}", headers=fan.headers)).json()
    assert page["following"] is True and page["followers_count"] == 2
    anonymous = (await api.client.get(f"/api/v1/accounts/{brand.username}")).json()
    assert anonymous["following"] is False and anonymous["followers_count"] == 2
    for _ in range(2):
        r = await api.client.post(f"{path}/unfollow", headers=fan.headers)
        assert r.status_code == 200 and r.json() == {"following": False}
    page = (await api.client.get(f"/api/v1/accounts/{brand.username}", headers=fan.headers)).json()
    assert page["following"] is False and page["followers_count"] == 1
    r = await api.client.post(f"{path}/follow", headers=fan.headers)  # a new period
    assert r.json() == {"following": True}
    page = (await api.client.get(f"/api/v1/accounts/{brand.username}", headers=fan.headers)).json()
    assert page["following"] is True and page["followers_count"] == 2


async def test_who_can_follow_whom(api: Api) -> None:
    brand, shopper, other = await api.partner(), await api.signup(), await api.signup()
    r = await api.client.post(f"/api/v1/accounts/{brand.id}/follow")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    r = await api.client.post(f"/api/v1/accounts/{brand.id}/follow", headers=brand.headers)
    assert r.status_code == 422
    assert r.json() == {"error": "You cannot follow yourself.", "code": "cannot_follow_self"}
    r = await api.client.post(f"/api/v1/accounts/{other.id}/follow", headers=shopper.headers)
    assert r.status_code == 422 and r.json()["code"] == "not_a_brand"
    assert "partner brands" in r.json()["error"]
    r = await api.client.post(f"/api/v1/accounts/{other.id}/unfollow", headers=shopper.headers)
    assert r.status_code == 200 and r.json() == {"following": False}  # always accepted
    for action in ("follow", "unfollow"):
        r = await api.client.post(f"/api/v1/accounts/999999/{action}", headers=shopper.headers)
        assert r.status_code == 404 and r.json()["code"] == "not_found"
    page = (await api.client.get(f"/api/v1/accounts/{other.username}")).json()
    assert page["is_partner"] is False and page["upcoming_drops"] == []
