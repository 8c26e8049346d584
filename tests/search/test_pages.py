"""The web app's Upcoming page (soonest launch first, in pages, in the viewer's time zone)
and search (the header's box, the results page)."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from tests.helpers import Api, User

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery"


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


async def _web_login(api: Api, user: User) -> None:
    page = await api.client.get("/login")
    r = await api.client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": _csrf(page)}
    )
    assert r.status_code == 303, r.text


def _cards(html: str) -> list[int]:
    """The drop ids of the page's drop cards, in order."""
    return [
        int(i)
        for i in re.findall(r'<article class="drop drop-card[^"]*" data-drop-id="(\d+)"', html)
    ]


async def test_upcoming_lists_scheduled_drops_by_launch_time(api: Api) -> None:
    brand = await api.partner()
    later = await api.create_drop(brand, title="Later", in_=timedelta(days=3))
    soonest = await api.create_drop(brand, title="Soonest", in_=timedelta(minutes=30))
    middle = await api.create_drop(brand, title="Middle", in_=timedelta(hours=5))
    cancelled = await api.create_drop(brand, title="Called off", in_=timedelta(hours=1))
    launched = await api.create_drop(brand, title="Launched", in_=timedelta(minutes=10))
    r = await api.client.post(f"/api/v1/drops/{cancelled['id']}/cancel", headers=brand.headers)
    assert r.status_code == 200, r.text
    api.clock.advance(timedelta(minutes=15))  # "Launched" is live now

    page = await api.client.get("/upcoming")
    assert page.status_code == 200
    assert _cards(page.text) == [soonest["id"], middle["id"], later["id"]]
    assert launched["id"] not in _cards(page.text)
    assert "<h1>Upcoming drops</h1>" in page.text


async def test_upcoming_pages_go_on_in_launch_order(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dropbell.web import discover

    monkeypatch.setattr(discover, "PAGE_SIZE", 2)
    brand = await api.partner()
    # Created out of order, two at the same instant (ordered by id then)
    made = {
        hours: await api.create_drop(brand, title=f"In {hours} h", in_=timedelta(hours=hours))
        for hours in (4, 1, 3, 2)
    }
    same = await api.create_drop(brand, title="Also in 2 h", in_=timedelta(hours=2))
    order = [made[1]["id"], made[2]["id"], same["id"], made[3]["id"], made[4]["id"]]

    seen: list[int] = []
    path: str | None = "/upcoming"
    while path:
        page = await api.client.get(path)
        assert page.status_code == 200
        seen += _cards(page.text)
        found = re.search(r'href="(/upcoming\?after=\d+)"', page.text)
        path = found.group(1) if found else None
    assert seen == order


async def test_upcoming_shows_times_in_the_viewers_time_zone(api: Api) -> None:
    brand = await api.partner()
    await api.create_drop(brand, title="Dawn", in_=timedelta(hours=1))  # 13:00 UTC
    tokyo = await api.signup(timezone="Asia/Tokyo")
    await _web_login(api, tokyo)
    page = await api.client.get("/upcoming")
    assert "Tue 1 Jan 2030, 10:00 PM JST" in page.text, page.text
    assert '<a href="/upcoming" aria-current="page">' in page.text  # in the main navigation


async def test_the_header_search_box_leads_to_results(api: Api) -> None:
    brand = await api.partner("maison_aurelle")
    drop = await api.create_drop(brand, title="Le Sac Étoile", tag="sacetoile")
    home = await api.client.get("/")
    assert '<form class="site-search" role="search" method="get" action="/search">' in home.text

    page = await api.client.get("/search", params={"q": "etoile"})
    assert page.status_code == 200
    assert _cards(page.text) == [drop["id"]]
    assert 'href="/drops/{}">Le Sac Étoile</a>'.format(drop["id"]) in page.text
    assert 'value="etoile"' in page.text  # the box keeps the query
    assert 'href="/tags/sacetoile"' in page.text
    page = await api.client.get("/search", params={"q": "maison"})
    assert 'href="/@maison_aurelle"' in page.text


async def test_the_search_page_says_when_nothing_or_nonsense_was_asked(api: Api) -> None:
    empty = await api.client.get("/search")
    assert empty.status_code == 200 and "Find drops, brands and hashtags" in empty.text
    nothing = await api.client.get("/search", params={"q": "zzzyx"})
    assert nothing.status_code == 200 and "Nothing found for <bdi>zzzyx</bdi>." in nothing.text
    bad = await api.client.get("/search", params={"q": "?!"})
    assert bad.status_code == 422 and "Search for a word: letters or digits." in bad.text
    long = await api.client.get("/search", params={"q": "x" * 101})
    assert long.status_code == 422 and "Search for at most 100 characters." in long.text
