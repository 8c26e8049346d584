"""Regional drops: limited to ``countries``, a drop is an ordinary post elsewhere (seen,
liked), but Remind me there answers 403 ``not_eligible`` with a reason a person reads,
``remindable`` is false, and no reminder is made; the drop page says where it is sold."""

from __future__ import annotations

import re

import pytest

from dropbell.config import Settings
from tests.helpers import Api

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery"
GULF = "This drop is sold only in Saudi Arabia and the United Arab Emirates."


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The rollout lets everyone in: only the drop's countries decide here."""
    everyone = {"rollout_platforms": "*", "rollout_countries": "*", "rollout_languages": "*"}
    return Settings(**{**settings.model_dump(), **everyone})


async def test_codes_are_checked_and_stored_upper_case(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand, countries=["sa", "AE", "SA"])
    assert drop["countries"] == ["AE", "SA"]
    assert (await api.create_drop(brand))["countries"] is None
    for bad in (["XX"], ["USA"], [], ["u"], "SA"):
        r = await api.client.post(
            "/api/v1/drops",
            headers=brand.headers,
            json={
                "title": "T", "launch_at": "2030-01-02T12:00:00Z", "tag": "regional",
                "shop_url": "https://shop.example/x", "countries": bad,
            },
        )  # fmt: skip
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["code"] == "invalid"


async def test_outside_its_countries_remind_me_is_refused_with_the_reason(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand, countries=["SA", "AE"])
    riyadh = await api.signup(country="SA")
    boston = await api.signup(country="US")

    seen = await api.client.get(f"/api/v1/drops/{drop['id']}", headers=boston.headers)
    assert seen.json()["remindable"] is False
    r = await api.remind(boston, drop["id"])
    assert r.status_code == 403, r.text
    assert r.json() == {"error": GULF, "code": "not_eligible"}
    # An ordinary post for them all the same.
    r = await api.client.post(f"/api/v1/posts/{drop['post_id']}/like", headers=boston.headers)
    assert r.status_code == 200, r.text

    seen = await api.client.get(f"/api/v1/drops/{drop['id']}", headers=riyadh.headers)
    assert seen.json()["remindable"] is True
    r = await api.remind(riyadh, drop["id"])
    assert r.status_code == 200, r.text
    assert r.json()["reminded"] is True
    # The refused tap made no reminder: only Riyadh's is counted.
    assert r.json()["reminder_count"] == 1
    again = await api.client.get(f"/api/v1/drops/{drop['id']}")
    assert again.json()["reminder_count"] == 1


async def test_patch_changes_where_it_is_sold(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand, countries=["SA"])
    paris = await api.signup(country="FR")
    assert (await api.remind(paris, drop["id"])).status_code == 403
    url = f"/api/v1/drops/{drop['id']}"

    r = await api.client.patch(url, headers=brand.headers, json={"countries": ["fr", "SA"]})
    assert r.status_code == 200, r.text
    assert r.json()["countries"] == ["FR", "SA"]
    assert (await api.client.get(url, headers=paris.headers)).json()["remindable"] is True

    r = await api.client.patch(url, headers=brand.headers, json={"countries": ["DE"]})
    assert r.json()["countries"] == ["DE"]
    r = await api.remind(paris, drop["id"])
    assert r.status_code == 403
    assert r.json()["error"] == "This drop is sold only in Germany."

    r = await api.client.patch(url, headers=brand.headers, json={"title": "Renamed"})
    assert r.json()["countries"] == ["DE"]  # left alone when not given
    r = await api.client.patch(url, headers=brand.headers, json={"countries": None})
    assert r.status_code == 200, r.text
    assert r.json()["countries"] is None
    assert (await api.remind(paris, drop["id"])).status_code == 200


async def test_the_drop_page_says_where_it_is_sold(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand, countries=["AE", "SA"], title="Oud")
    page = await api.client.get(f"/drops/{drop['id']}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "Sold only in Saudi Arabia and the United Arab Emirates." in page.text
    french = await api.client.get(
        f"/drops/{drop['id']}", headers={"Accept": "text/html", "Accept-Language": "fr"}
    )
    assert "Arabie saoudite et Émirats arabes unis" in french.text
    everywhere = await api.create_drop(brand)
    page = await api.client.get(f"/drops/{everywhere['id']}", headers={"Accept": "text/html"})
    assert "Sold only in" not in page.text


async def test_a_shopper_outside_reads_why_instead_of_remind_me(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand, countries=["SA", "AE"])
    await api.signup("boston_shopper", country="US")
    login = await api.client.get("/login")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', login.text)
    assert csrf
    r = await api.client.post(
        "/login",
        data={"username": "boston_shopper", "password": PASSWORD, "csrf_token": csrf.group(1)},
    )
    assert r.status_code == 303, r.text
    page = await api.client.get(f"/drops/{drop['id']}", headers={"Accept": "text/html"})
    assert GULF in page.text
    assert not re.search(r"Remind me\s*</button>", page.text)
    assert "Sold only in" not in page.text  # said once, as the reason
