"""Hashtags in any script, matched case-insensitively; the tag page with its drop."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.helpers import Api
from tests.posts.helpers import delete, listing, next_link, ok, post, walk

pytestmark = pytest.mark.anyio


def tag_url(tag: str) -> str:
    return "/api/v1/tags/" + quote(tag)


async def test_arabic_and_japanese_hashtags_work(api: Api) -> None:
    alice = await api.signup()
    arabic = await post(api, alice, "إطلاق جديد #أحذية_رياضية الليلة")
    japanese = await post(api, alice, "新作スニーカー #スニーカー #限定2030 発売")

    assert arabic["tags"] == ["أحذية_رياضية"]
    assert japanese["tags"] == ["スニーカー", "限定2030"]
    page, _ = await listing(api, tag_url("أحذية_رياضية"))
    assert page["tag"] == "أحذية_رياضية"
    assert [p["id"] for p in page["posts"]] == [arabic["id"]]
    assert [p["id"] for p in await walk(api, tag_url("#スニーカー"))] == [japanese["id"]]
    assert [p["id"] for p in await walk(api, tag_url("限定2030"))] == [japanese["id"]]


async def test_tags_match_whatever_the_case_or_width(api: Api) -> None:
    alice = await api.signup()
    a = await post(api, alice, "#Sneakers drop")
    b = await post(api, alice, "more #SNEAKERS")
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in "SNEAKERS")  # U+FF33 ...
    c = await post(api, alice, f"full width #{full_width}")  # NFKC folds it
    d = await post(api, alice, "German #Straße and #STRASSE are one tag")

    assert a["tags"] == b["tags"] == c["tags"] == ["sneakers"]
    assert d["tags"] == ["strasse"]
    for spelling in ("sneakers", "Sneakers", "SNEAKERS", "#sneakers"):
        body, _ = await listing(api, tag_url(spelling))
        assert body["tag"] == "sneakers"
        assert [p["id"] for p in body["posts"]] == [c["id"], b["id"], a["id"]]


async def test_text_that_only_looks_like_a_tag_is_not_one(api: Api) -> None:
    alice = await api.signup()
    p = await post(api, alice, "mail me@x.com, #1 in sales, a#b, ## and # alone, C# &#39;")
    assert p["tags"] == []


@pytest.mark.parametrize("bad", ["two words", "no-dash", "123", "a" * 101])
async def test_a_tag_page_for_something_not_a_hashtag_is_422(api: Api, bad: str) -> None:
    r = await api.client.get(tag_url(bad))
    assert r.status_code == 422
    assert r.json()["code"] == "invalid"


async def test_an_unused_tag_has_an_empty_page(api: Api) -> None:
    body, more = await listing(api, tag_url("nothing_here"))
    assert body == {"tag": "nothing_here", "drop": None, "posts": []}
    assert more is None


async def test_the_tag_page_shows_the_drop_with_the_callers_remind_me_state(api: Api) -> None:
    brand, shopper, other = await api.partner(), await api.signup(), await api.signup()
    drop = await api.create_drop(brand, tag="AirMax2030")
    fan = await post(api, other, "can't wait #airmax2030")
    assert (await api.remind(shopper, drop["id"])).status_code == 200

    body, _ = await listing(api, tag_url("AIRMAX2030"), shopper)
    assert body["tag"] == "airmax2030"
    assert body["drop"]["id"] == drop["id"]
    assert body["drop"]["reminded"] is True
    assert body["drop"]["reminder_count"] == 1
    assert [p["id"] for p in body["posts"]] == [fan["id"], drop["post_id"]]
    assert body["posts"][1]["drop"]["id"] == drop["id"]

    anonymous, _ = await listing(api, tag_url("airmax2030"))
    assert anonymous["drop"]["reminded"] is False


async def test_tag_pages_are_keyset_paged_and_skip_deleted_posts(api: Api) -> None:
    alice, bob = await api.signup(), await api.signup()
    ids = []
    for i in range(9):
        ids.append((await post(api, alice, f"#Kicks number {i}"))["id"])
        await post(api, bob, "untagged noise")
    await ok(api, bob, ids[3], "repost")  # reposts do not carry the tag a second time
    assert (await delete(api, alice, ids[4])).status_code == 200
    expected = [i for i in reversed(ids) if i != ids[4]]

    body, url = await listing(api, tag_url("kicks"), limit=3)
    assert [p["id"] for p in body["posts"]] == expected[:3]
    assert url is not None and f"max_id={expected[2]}" in url
    seen = [p["id"] for p in body["posts"]]
    sizes = [len(body["posts"])]
    while url is not None:
        await post(api, alice, "#kicks arriving meanwhile")  # newer: not on later pages
        r = await api.client.get(url)
        assert r.status_code == 200
        assert r.json()["tag"] == "kicks"
        seen += [p["id"] for p in r.json()["posts"]]
        sizes.append(len(r.json()["posts"]))
        url = next_link(r)
    assert seen == expected
    assert sizes == [3, 3, 2]  # full pages: the deleted post leaves no hole


async def test_a_cancelled_drops_post_stays_and_shows_the_drop_cancelled(api: Api) -> None:
    brand, shopper = await api.partner(), await api.signup()
    drop = await api.create_drop(brand, tag="gone_soon")
    r = await api.client.post(f"/api/v1/drops/{drop['id']}/cancel", headers=brand.headers)
    assert r.status_code == 200, r.text

    body, _ = await listing(api, tag_url("gone_soon"), shopper)
    assert body["drop"]["status"] == "cancelled"
    assert [p["id"] for p in body["posts"]] == [drop["post_id"]]
    assert body["posts"][0]["drop"]["status"] == "cancelled"
    assert body["posts"][0]["drop"]["remindable"] is False
