from __future__ import annotations

from datetime import timedelta

import pytest

from tests.helpers import Api, iso

pytestmark = pytest.mark.anyio


async def test_partner_announces_a_drop_with_its_post(api: Api) -> None:
    brand = await api.partner("dior_like")
    drop = await api.create_drop(
        brand, title="Saddle bag", tag="#SaddleBag", price="3900", currency="eur"
    )
    assert drop["status"] == "scheduled"
    assert drop["tag"] == "saddlebag"
    assert drop["price"] == "3900.00" and drop["currency"] == "EUR"
    assert drop["brand"]["username"] == "dior_like"
    assert drop["post_id"] > 0
    assert drop["reminder_count"] == 0
    assert drop["url"] == f"http://dropbell.test/drops/{drop['id']}"
    assert drop["launch_at"].endswith("Z")
    # Without a token nobody has reminded, and nobody can.
    anon = (await api.client.get(f"/api/v1/drops/{drop['id']}")).json()
    assert anon["reminded"] is False and anon["remindable"] is False


async def test_only_partners_create_drops(api: Api) -> None:
    shopper = await api.signup()
    r = await api.client.post(
        "/api/v1/drops",
        headers=shopper.headers,
        json={
            "title": "x",
            "launch_at": iso(api.clock.now() + timedelta(hours=1)),
            "shop_url": "https://shop.example/",
            "tag": "x1",
        },
    )
    assert r.status_code == 403 and r.json()["code"] == "not_partner"
    assert (await api.client.get("/api/v1/drops")).json() == []


@pytest.mark.parametrize(
    "shop_url",
    [
        "http://shop.example/x",  # not https
        "https://evil.example/x",  # not the brand's domain
        "https://shop.example.evil.example/x",  # suffix trick
        "https://notshop.example/x",  # not a subdomain, only a similar name
        "https://shop.example@evil.example/x",  # user-info trick
        "https://shop.example:8443/x",  # other port
        "javascript:alert(1)",
        "//evil.example/x",
        "https:\\\\evil.example",
        "https://shop.example/ x",
    ],
)
async def test_shop_url_must_be_https_on_the_brands_domains(api: Api, shop_url: str) -> None:
    brand = await api.partner()
    r = await api.client.post(
        "/api/v1/drops",
        headers=brand.headers,
        json={
            "title": "x",
            "launch_at": iso(api.clock.now() + timedelta(hours=1)),
            "shop_url": shop_url,
            "tag": "x2",
        },
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid"
    assert (await api.client.get("/api/v1/drops")).json() == []


async def test_subdomains_of_an_approved_domain_are_fine(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand, shop_url="https://EU.Shop.Example/bag?ref=drop")
    assert drop["shop_url"] == "https://eu.shop.example/bag?ref=drop"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("launch_at", "2030-01-01T13:00:00"),  # naive: no offset
        ("launch_at", "2029-12-31T12:00:00Z"),  # in the past
        ("launch_at", "tomorrow"),
        ("tag", "two words"),
        ("tag", "#"),
        ("tag", "1234"),
        ("price", "-1"),
        ("price", "1.234"),
        ("currency", "EURO"),
        ("title", ""),
        ("unknown_field", 1),
    ],
)
async def test_bad_drop_input_is_rejected(api: Api, field: str, value: object) -> None:
    brand = await api.partner()
    body = {
        "title": "Bag",
        "launch_at": iso(api.clock.now() + timedelta(hours=1)),
        "shop_url": "https://shop.example/",
        "tag": "bag",
        field: value,
    }
    r = await api.client.post("/api/v1/drops", headers=brand.headers, json=body)
    assert r.status_code == 422, r.text
    assert set(r.json()) >= {"error", "code"}
    assert (await api.client.get("/api/v1/drops")).json() == []


async def test_a_hashtag_belongs_to_one_drop(api: Api) -> None:
    brand = await api.partner()
    await api.create_drop(brand, tag="Launch")
    r = await api.client.post(
        "/api/v1/drops",
        headers=brand.headers,
        json={
            "title": "Other",
            "launch_at": iso(api.clock.now() + timedelta(hours=2)),
            "shop_url": "https://shop.example/",
            "tag": "LAUNCH",
        },
    )
    assert r.status_code == 409 and r.json()["code"] == "tag_taken"


async def test_only_the_owning_brand_edits_or_cancels(api: Api) -> None:
    brand = await api.partner()
    other = await api.partner()
    shopper = await api.signup()
    drop = await api.create_drop(brand)
    for who, code in ((other, "not_owner"), (shopper, "not_partner")):
        r = await api.client.patch(
            f"/api/v1/drops/{drop['id']}", headers=who.headers, json={"title": "Mine now"}
        )
        assert r.status_code == 403 and r.json()["code"] == code
        r = await api.client.post(f"/api/v1/drops/{drop['id']}/cancel", headers=who.headers)
        assert r.status_code == 403
        r = await api.client.get(f"/api/v1/drops/{drop['id']}/stats", headers=who.headers)
        assert r.status_code == 403
    assert (await api.client.get(f"/api/v1/drops/{drop['id']}")).json()["title"] == drop["title"]
    r = await api.client.patch(
        f"/api/v1/drops/{drop['id']}", headers=brand.headers, json={"title": "Renamed"}
    )
    assert r.status_code == 200 and r.json()["title"] == "Renamed"


async def test_unknown_drop_is_404(api: Api) -> None:
    r = await api.client.get("/api/v1/drops/9999")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    shopper = await api.signup()
    assert (await api.remind(shopper, 9999)).status_code == 404


async def test_list_filters_by_status_and_pages_newest_first(api: Api) -> None:
    brand = await api.partner()
    soon = await api.create_drop(brand, in_=timedelta(minutes=30))
    later = [await api.create_drop(brand, in_=timedelta(days=d)) for d in (1, 2, 3)]
    cancelled = await api.create_drop(brand, in_=timedelta(days=4))
    await api.client.post(f"/api/v1/drops/{cancelled['id']}/cancel", headers=brand.headers)
    api.clock.advance(timedelta(hours=1))

    live = (await api.client.get("/api/v1/drops", params={"status": "live"})).json()
    assert [d["id"] for d in live] == [soon["id"]]
    upcoming = (await api.client.get("/api/v1/drops", params={"status": "upcoming"})).json()
    assert [d["id"] for d in upcoming] == [d["id"] for d in reversed(later)]

    r = await api.client.get("/api/v1/drops", params={"limit": 2})
    first = r.json()
    assert [d["id"] for d in first] == [cancelled["id"], later[2]["id"]]
    assert first[1]["status"] == "scheduled" and first[0]["status"] == "cancelled"
    assert 'rel="next"' in r.headers["link"]
    seen = [d["id"] for d in first]
    url = r.headers["link"].split(">")[0].lstrip("<")
    while url:
        r = await api.client.get(url)
        seen += [d["id"] for d in r.json()]
        url = r.headers["link"].split(">")[0].lstrip("<") if "link" in r.headers else ""
    assert seen == sorted(seen, reverse=True) and len(seen) == 5
    r = await api.client.get("/api/v1/drops", params={"limit": 81})
    assert r.status_code == 422
