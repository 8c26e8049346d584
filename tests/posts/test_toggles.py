"""Like, repost, bookmark (and their undos) are idempotent; share counts each sharer once
an hour."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.helpers import Api
from tests.posts.helpers import act, get, ok, post, walk

pytestmark = pytest.mark.anyio

TOGGLES = [
    ("like", "unlike", "like_count", "liked"),
    ("repost", "unrepost", "repost_count", "reposted"),
    ("bookmark", "unbookmark", "bookmark_count", "bookmarked"),
]


@pytest.mark.parametrize(("do", "undo", "count", "flag"), TOGGLES, ids=[t[0] for t in TOGGLES])
async def test_each_toggle_is_idempotent_and_shows_the_callers_state(
    api: Api, do: str, undo: str, count: str, flag: str
) -> None:
    alice, bob, carol = await api.signup(), await api.signup(), await api.signup()
    p = await post(api, alice, "hello")

    first = await ok(api, bob, p["id"], do)
    again = await ok(api, bob, p["id"], do)
    assert (first[count], first[flag]) == (1, True)
    assert (again[count], again[flag]) == (1, True)

    # Others see the count but not bob's flag; without a token every flag is false.
    seen_by_carol = (await get(api, carol, p["id"])).json()
    assert (seen_by_carol[count], seen_by_carol[flag]) == (1, False)
    anonymous = (await get(api, None, p["id"])).json()
    assert (anonymous[count], anonymous[flag]) == (1, False)

    assert (await ok(api, carol, p["id"], do))[count] == 2
    undone = await ok(api, bob, p["id"], undo)
    undone_again = await ok(api, bob, p["id"], undo)
    assert (undone[count], undone[flag]) == (1, False)
    assert (undone_again[count], undone_again[flag]) == (1, False)

    # Undoing what was never done changes nothing.
    never = await ok(api, alice, p["id"], undo)
    assert (never[count], never[flag]) == (1, False)
    assert (await get(api, carol, p["id"])).json()[flag] is True


@pytest.mark.parametrize("action", ["like", "unlike", "repost", "unrepost", "bookmark"])
async def test_toggles_need_a_token(api: Api, action: str) -> None:
    alice = await api.signup()
    p = await post(api, alice, "hello")
    r = await act(api, None, p["id"], action)
    assert r.status_code == 401
    assert (await get(api, None, p["id"])).json() == p


async def test_share_hands_out_the_link_and_counts_each_sharer_once_an_hour(api: Api) -> None:
    alice, bob = await api.signup(), await api.signup()
    p = await post(api, alice, "hello")

    r = await act(api, bob, p["id"], "share")
    assert r.status_code == 200
    assert r.json() == {"url": f"http://dropbell.test/posts/{p['id']}"}
    await ok(api, bob, p["id"], "share")  # the link again; the same sharer this hour
    await ok(api, None, p["id"], "share")  # someone not signed in shares too
    assert (await get(api, None, p["id"])).json()["share_count"] == 2
    api.clock.advance(timedelta(hours=1))
    await ok(api, bob, p["id"], "share")
    assert (await get(api, None, p["id"])).json()["share_count"] == 3


async def test_reposting_and_liking_your_own_post_are_allowed(api: Api) -> None:
    alice = await api.signup()
    p = await post(api, alice, "proud of this")
    assert (await ok(api, alice, p["id"], "like"))["like_count"] == 1
    assert (await ok(api, alice, p["id"], "repost"))["repost_count"] == 1


async def test_acting_on_a_reposts_id_acts_on_the_original(api: Api) -> None:
    alice, bob, carol = await api.signup(), await api.signup(), await api.signup()
    p = await post(api, alice, "original")
    await ok(api, bob, p["id"], "repost")
    repost_id = (await walk(api, "/api/v1/timelines/public"))[0]["id"]

    entry = (await get(api, carol, repost_id)).json()
    assert (entry["author"]["id"], entry["reblog"]["id"]) == (bob.id, p["id"])
    liked = await ok(api, carol, repost_id, "like")
    assert liked["id"] == p["id"]
    assert liked["like_count"] == 1
    await ok(api, carol, repost_id, "bookmark")
    await ok(api, carol, repost_id, "repost")  # a repost of the original, not of the repost
    shared = await act(api, carol, repost_id, "share")
    assert shared.json()["url"] == f"http://dropbell.test/posts/{p['id']}"

    original = (await get(api, carol, p["id"])).json()
    assert original["like_count"] == 1
    assert original["bookmark_count"] == 1
    assert original["repost_count"] == 2
    assert original["share_count"] == 1
    assert (original["liked"], original["bookmarked"], original["reposted"]) == (True, True, True)
    timeline = await walk(api, "/api/v1/timelines/public")
    assert [(e["author"]["id"], e["reblog"] and e["reblog"]["id"]) for e in timeline] == [
        (carol.id, p["id"]),
        (bob.id, p["id"]),
        (alice.id, None),
    ]
