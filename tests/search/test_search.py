"""GET /api/v1/search: drops, posts, brands and hashtags, found by their plain forms
(accents, case, Arabic diacritics and tatweel, alef variants), the exact tag first, and
the index kept in step with every write (post, drop, edit, delete, cancel, rename)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.helpers import Api, User
from tests.posts.helpers import delete, post

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery"


async def search(api: Api, q: str, user: User | None = None, **params: Any) -> dict[str, Any]:
    headers = user.headers if user else {}
    r = await api.client.get("/api/v1/search", params={"q": q, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def ids(items: list[dict[str, Any]]) -> list[int]:
    return [item["id"] for item in items]


def tags(body: dict[str, Any]) -> list[str]:
    return [h["tag"] for h in body["hashtags"]]


async def test_a_drop_is_found_by_a_word_of_its_title_or_description(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(
        brand, title="Desert Runner sneaker", description="Hand-stitched in Marrakesh."
    )
    other = await api.create_drop(brand, title="Canvas tote", description="For the beach.")

    for q in ("runner", "RUNNER", "Desert runner", "marrakesh", "hand stitched"):
        body = await search(api, q)
        assert ids(body["drops"]) == [drop["id"]], q
    assert ids((await search(api, "tote"))["drops"]) == [other["id"]]
    assert (await search(api, "runner tote"))["drops"] == []  # every word must be there
    assert (await search(api, "run"))["drops"] == []  # words, not their starts
    found = (await search(api, "runner"))["drops"][0]
    assert found["title"] == "Desert Runner sneaker" and found["status"] == "scheduled"
    assert found["brand"]["username"] == brand.username


async def test_arabic_is_found_by_its_plain_form(api: Api) -> None:
    """Diacritics (tashkeel), the tatweel and the alef's hamza do not matter, either way."""
    brand = await api.partner()
    drop = await api.create_drop(brand, title="قَهْوَة عَرَبِيَّة", description="مـــحمصة أصيلة")
    shopper = await api.signup()
    written = await post(api, shopper, "جرّبتُ القَهْوَة الجديدة اليوم #قهوة_مختصة")

    for q in ("قهوة", "قهوه", "عربية", "محمصة", "اصيلة", "أصيلة", "إصيلة"):
        assert ids((await search(api, q))["drops"]) == [drop["id"]], q
    assert ids((await search(api, "القهوة"))["posts"]) == [written["id"]]
    assert ids((await search(api, "جربت"))["posts"]) == [written["id"]]
    # and a query with diacritics finds the plain text
    plain = await post(api, shopper, "افضل قهوة في المدينة")
    assert ids((await search(api, "أَفْضَل"))["posts"]) == [plain["id"]]
    assert tags(await search(api, "قهوه_مخ")) == ["قهوة_مختصة"]


async def test_accented_text_is_found_by_its_plain_form(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand, title="Café Crème édition", description="Niño, Straße")
    shopper = await api.signup()
    written = await post(api, shopper, "Le CAFÉ de l'été est là #Pâtisserie")

    for q in ("cafe", "CAFE", "café", "creme", "edition", "nino", "strasse"):
        assert ids((await search(api, q))["drops"]) == [drop["id"]], q
    body = await search(api, "ete cafe")
    assert ids(body["posts"]) == [written["id"]]
    assert ids((await search(api, "patisserie"))["posts"]) == [written["id"]]
    assert tags(await search(api, "patis")) == ["pâtisserie"]
    assert tags(await search(api, "#Pâtis")) == ["pâtisserie"]


async def test_an_exact_tag_comes_first(api: Api) -> None:
    brand = await api.partner()
    shopper = await api.signup()
    # Newer drops and posts that only mention the word, and more-used tags starting with it
    owner = await api.create_drop(brand, title="Limited run", tag="sneaker")
    mention = await api.create_drop(brand, title="The best sneaker of the year", tag="best_one")
    tagged = await post(api, shopper, "mine came today #sneaker")
    talk = [await post(api, shopper, "#sneakers #sneakerhead all week, sneaker talk")]
    talk += [await post(api, shopper, "#sneakers #sneakerhead, more sneaker talk")]
    talk += [await post(api, shopper, "#sneakers #sneakerhead, sneaker talk again")]
    newest = await post(api, shopper, "a sneaker with no tag")

    body = await search(api, "sneaker")
    # the exact tag, then the most used (a tie: by name)
    assert tags(body) == ["sneaker", "sneakerhead", "sneakers"]
    assert [h["post_count"] for h in body["hashtags"]] == [2, 3, 3]  # the drop's post + one
    assert body["hashtags"][0]["drop_id"] == owner["id"]
    assert body["hashtags"][1]["drop_id"] is None
    # the drop that owns the tag, then the newest that mention it
    assert ids(body["drops"]) == [owner["id"], mention["id"]]
    # the posts tagged with it, then the newest that say it
    assert ids(body["posts"]) == [tagged["id"], newest["id"], *reversed(ids(talk))]
    assert body["hashtags"][0]["url"] == "http://dropbell.test/tags/sneaker"
    # A drop's announcement is the drop, not one of the posts
    assert owner["post_id"] not in ids(body["posts"])
    # The exact tag wins over a more used one that only starts with it
    assert tags(await search(api, "#SNEAKER"))[0] == "sneaker"


async def test_a_brand_is_found_by_its_display_name_or_username(api: Api) -> None:
    brand = await api.partner("maison_aurelle")
    await _rename(api, brand, "Maison Aurélie Paris")
    shopper = await api.signup("aurelie_fan")  # shoppers are not searchable

    for q in ("aurelie", "Aurélie", "maison", "maison aur", "paris", "maison_aurelle"):
        assert ids((await search(api, q))["accounts"]) == [brand.id], q
    found = (await search(api, "aurelie"))["accounts"][0]
    assert found == {
        "id": brand.id,
        "username": "maison_aurelle",
        "display_name": "Maison Aurélie Paris",
        "is_partner": True,
    }
    assert shopper.id not in ids((await search(api, "aurelie_fan"))["accounts"])


async def test_a_new_display_name_is_searchable_at_once_and_the_old_one_is_not(
    api: Api,
) -> None:
    brand = await api.partner()
    await _rename(api, brand, "Nordlicht Studio")
    assert ids((await search(api, "nordlicht"))["accounts"]) == [brand.id]
    await _rename(api, brand, "Polaris Atelier")
    assert (await search(api, "nordlicht"))["accounts"] == []
    assert ids((await search(api, "polaris"))["accounts"]) == [brand.id]


async def test_a_deleted_post_is_not_found(api: Api) -> None:
    shopper = await api.signup()
    gone = await post(api, shopper, "a vintage jacket #thrift")
    kept = await post(api, shopper, "another vintage find #thrift")
    assert ids((await search(api, "vintage"))["posts"]) == [kept["id"], gone["id"]]

    assert (await delete(api, shopper, gone["id"])).status_code == 200
    body = await search(api, "vintage")
    assert ids(body["posts"]) == [kept["id"]]
    assert body["hashtags"] == []  # "vintage" is not a tag
    assert [(h["tag"], h["post_count"]) for h in (await search(api, "thrift"))["hashtags"]] == [
        ("thrift", 1)
    ]
    assert (await delete(api, shopper, kept["id"])).status_code == 200
    assert (await search(api, "thrift")) == {
        "drops": [],
        "posts": [],
        "accounts": [],
        "hashtags": [],
    }


async def test_a_cancelled_drop_leaves_search_and_its_tag_stays(api: Api) -> None:
    """Decided: search shows what a shopper can still act on. A cancelled drop is not
    found; its tag (its page says the drop was called off) still is."""
    brand = await api.partner()
    drop = await api.create_drop(brand, title="Aurora parka", tag="auroraparka")
    assert ids((await search(api, "parka"))["drops"]) == [drop["id"]]

    r = await api.client.post(f"/api/v1/drops/{drop['id']}/cancel", headers=brand.headers)
    assert r.status_code == 200, r.text
    body = await search(api, "parka")
    assert body["drops"] == []
    assert (await search(api, "auroraparka"))["drops"] == []
    assert tags(await search(api, "auroraparka")) == ["auroraparka"]


async def test_an_edited_drop_is_found_by_its_new_words_only(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand, title="Glacier boot", tag="glacierboot")
    r = await api.client.patch(
        f"/api/v1/drops/{drop['id']}",
        json={"title": "Tundra boot", "tag": "tundraboot"},
        headers=brand.headers,
    )
    assert r.status_code == 200, r.text

    assert (await search(api, "glacier"))["drops"] == []
    assert ids((await search(api, "tundra"))["drops"]) == [drop["id"]]
    assert tags(await search(api, "glacierboot")) == []  # no post carries it now
    assert [(h["tag"], h["post_count"]) for h in (await search(api, "tundra"))["hashtags"]] == [
        ("tundraboot", 1)
    ]


async def test_a_drop_is_seen_as_the_caller_sees_it(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand, title="Orbit watch")
    shopper = await api.signup()
    assert (await api.remind(shopper, drop["id"])).status_code == 200
    assert (await search(api, "orbit", shopper))["drops"][0]["reminded"] is True
    assert (await search(api, "orbit"))["drops"][0]["reminded"] is False


async def test_results_are_limited(api: Api) -> None:
    shopper = await api.signup()
    made = [await post(api, shopper, f"linen shirt number {i} #linen{i}") for i in range(5)]
    body = await search(api, "linen", limit=3)
    assert ids(body["posts"]) == [p["id"] for p in reversed(made)][:3]
    assert len(body["hashtags"]) == 3
    assert len((await search(api, "linen"))["posts"]) == 5


@pytest.mark.parametrize(
    ("q", "why"),
    [("", "at least 1 character"), ("   ", "type something"), ("x" * 101, "at most 100"),
     ("!!! ?", "a word")],
)  # fmt: skip
async def test_an_empty_or_too_long_query_is_422(api: Api, q: str, why: str) -> None:
    r = await api.client.get("/api/v1/search", params={"q": q})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid"
    assert why in r.json()["error"], r.json()
    r = await api.client.get("/api/v1/search")
    assert r.status_code == 422 and r.json()["code"] == "invalid"
    r = await api.client.get("/api/v1/search", params={"q": "x", "limit": 41})
    assert r.status_code == 422


# -- helpers ------------------------------------------------------------------------


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


async def _rename(api: Api, user: User, display_name: str) -> None:
    """Change the display name as a person does: in Profile, logged in on the web."""
    api.client.cookies.clear()
    page = await api.client.get("/login")
    r = await api.client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": _csrf(page)}
    )
    assert r.status_code == 303, r.text
    page = await api.client.get("/settings")
    form = {
        "display_name": display_name,
        "country": "US",
        "language": "en",
        "timezone": "UTC",
        "csrf_token": _csrf(page),
    }
    r = await api.client.post("/settings", data=form)
    assert r.status_code == 303, r.text
    api.client.cookies.clear()


@pytest.mark.parametrize("recent_per_row", [1, 200])
async def test_the_newest_matches_come_back_however_they_are_looked_up(
    api: Api, monkeypatch: pytest.MonkeyPatch, recent_per_row: int
) -> None:
    """On PostgreSQL the newest rows are read first and the full index after, if they
    held too few matches (search.fts): both ways give the newest matches."""
    from dropbell.search import fts

    monkeypatch.setattr(fts, "RECENT_PER_ROW", recent_per_row)
    shopper = await api.signup()
    alpha = [await post(api, shopper, f"alpha jacket {i}") for i in range(3)]
    for i in range(3):
        await post(api, shopper, f"beta coat {i}")
    body = await search(api, "alpha", limit=2)
    assert ids(body["posts"]) == [alpha[2]["id"], alpha[1]["id"]]


async def test_tags_are_recounted_after_a_delete_that_cascaded_past_the_services(
    api: Api,
) -> None:
    """The demo's reset deletes accounts, and their posts go by cascade: the hashtags'
    counts are taken again from the rows (search.index.recount_tags)."""
    from sqlalchemy import delete

    from dropbell.accounts.models import Account
    from dropbell.db import transaction
    from dropbell.search import index

    gone, kept = await api.signup(), await api.signup()
    for _ in range(2):
        await post(api, gone, "fresh #linen")
    await post(api, kept, "mine too #linen")
    assert [h["post_count"] for h in (await search(api, "linen"))["hashtags"]] == [3]
    async with transaction(api.app.state.sessionmaker) as session:
        await session.execute(delete(Account).where(Account.id == gone.id))
        await index.recount_tags(session)
    body = await search(api, "linen")
    assert [h["post_count"] for h in body["hashtags"]] == [1]
    assert len(body["posts"]) == 1  # the index rows went with the posts
