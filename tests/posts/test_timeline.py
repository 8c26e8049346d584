"""The public timeline: newest first, reposts as the reposter's entries, keyset pages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.helpers import Api
from tests.posts.helpers import delete, listing, next_link, ok, post, walk

pytestmark = pytest.mark.anyio

TIMELINE = "/api/v1/timelines/public"


async def test_newest_first_with_reposts_as_the_reposters_entries(api: Api) -> None:
    alice, bob = await api.signup("alice"), await api.signup("bob")
    first = await post(api, alice, "first")
    api.clock.advance(timedelta(minutes=1))
    second = await post(api, bob, "second")
    api.clock.advance(timedelta(minutes=1))
    await ok(api, bob, first["id"], "repost")

    entries = await walk(api, TIMELINE, bob)
    assert [e["text"] for e in entries] == ["first", "second", "first"]
    repost = entries[0]
    # The entry is bob's, made now; the original is inside, as bob sees it.
    assert repost["author"]["username"] == "bob"
    assert repost["created_at"] == "2030-01-01T12:02:00Z"
    assert repost["id"] > second["id"]
    assert repost["reblog"]["id"] == first["id"]
    assert repost["reblog"]["author"]["username"] == "alice"
    assert repost["reblog"]["created_at"] == "2030-01-01T12:00:00Z"
    assert repost["reblog"]["reposted"] is True
    assert repost["repost_count"] == repost["reblog"]["repost_count"] == 1
    assert entries[2]["id"] == first["id"]
    assert entries[2]["reblog"] is None

    await ok(api, bob, first["id"], "unrepost")
    assert [e["id"] for e in await walk(api, TIMELINE)] == [second["id"], first["id"]]


async def test_pages_follow_the_link_header_without_losing_or_repeating_posts(api: Api) -> None:
    alice = await api.signup()
    ids = [(await post(api, alice, f"post {i}"))["id"] for i in range(7)]

    page1, next1 = await listing(api, TIMELINE, limit=3)
    assert [p["id"] for p in page1] == ids[::-1][:3]
    assert next1 is not None and f"max_id={ids[4]}" in next1

    r = await api.client.get(next1)
    page2 = r.json()
    assert [p["id"] for p in page2] == ids[::-1][3:6]
    # A page that ends exactly on the last post has no next link...
    last, nothing = await listing(api, TIMELINE, limit=1, max_id=ids[1])
    assert [p["id"] for p in last] == [ids[0]]
    assert nothing is None
    # ... and a page exactly as long as what is left has none either.
    full, none_left = await listing(api, TIMELINE, limit=7)
    assert len(full) == 7 and none_left is None
    assert await listing(api, TIMELINE, max_id=ids[0]) == ([], None)


async def test_new_posts_arriving_between_pages_are_neither_lost_nor_repeated(api: Api) -> None:
    alice, bob = await api.signup(), await api.signup()
    old = [(await post(api, alice, f"old {i}"))["id"] for i in range(5)]

    page, url = await listing(api, TIMELINE, limit=2)
    seen = [p["id"] for p in page]
    newer = []
    while url is not None:
        # Someone posts and reposts while we scroll down.
        newer.append((await post(api, bob, "meanwhile"))["id"])
        await ok(api, bob, old[0], "repost")
        r = await api.client.get(url)
        assert r.status_code == 200
        seen += [p["id"] for p in r.json()]
        url = next_link(r)

    assert seen == old[::-1]  # every old post once, in order; newer ones are above page 1
    top = await walk(api, TIMELINE, limit=80)
    assert newer[-1] in [p["id"] for p in top][:3]


async def test_deleted_posts_leave_the_timeline_with_their_reposts(api: Api) -> None:
    alice, bob = await api.signup(), await api.signup()
    keep = await post(api, alice, "keep")
    gone = await post(api, alice, "gone")
    await ok(api, bob, gone["id"], "repost")
    await ok(api, bob, keep["id"], "repost")

    assert (await delete(api, alice, gone["id"])).status_code == 200
    entries = await walk(api, TIMELINE)
    assert [(e["id"] == keep["id"], e["reblog"] and e["reblog"]["id"]) for e in entries] == [
        (False, keep["id"]),
        (True, None),
    ]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 81}, {"max_id": 0}, {"limit": "x"}])
async def test_bad_paging_parameters_get_422(api: Api, params: dict[str, int | str]) -> None:
    r = await api.client.get(TIMELINE, params=params)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid"
