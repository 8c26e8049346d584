"""A drop's image alt text: the brand writes it, every reader gets it."""

from __future__ import annotations

import pytest

from tests.helpers import Api

pytestmark = pytest.mark.anyio

ALT = "A quilted black leather bag on a gold chain"


async def test_the_brand_writes_the_image_s_alt_text(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand, image_url="https://cdn.shop.example/bag.jpg", image_alt=ALT)
    assert drop["image_alt"] == ALT
    anon = (await api.client.get(f"/api/v1/drops/{drop['id']}")).json()
    assert anon["image_alt"] == ALT

    r = await api.client.patch(
        f"/api/v1/drops/{drop['id']}", headers=brand.headers, json={"image_alt": "A bag"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["image_alt"] == "A bag"
    r = await api.client.patch(
        f"/api/v1/drops/{drop['id']}", headers=brand.headers, json={"image_alt": None}
    )
    assert r.status_code == 200, r.text
    assert r.json()["image_alt"] == ""


async def test_without_alt_text_it_is_empty_and_bounded(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand)
    assert drop["image_alt"] == ""
    for bad in ("x" * 301, "two\nlines"):
        r = await api.client.patch(
            f"/api/v1/drops/{drop['id']}", headers=brand.headers, json={"image_alt": bad}
        )
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "invalid"
    again = (await api.client.get(f"/api/v1/drops/{drop['id']}")).json()
    assert again["image_alt"] == ""
