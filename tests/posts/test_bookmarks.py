"""Bookmarks are private and listed newest bookmark first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.helpers import Api
from tests.posts.helpers import delete, listing, next_link, ok, post, walk

pytestmark = pytest.mark.anyio

BOOKMARKS = "/api/v1/bookmarks"


async def test_newest_bookmark_first_not_newest_post(api: Api) -> None:
    alice, bob = await api.signup(), await api.signup()
    old = await post(api, alice, "old post")
    new = await post(api, alice, "new post")
    await ok(api, bob, new["id"], "bookmark")
    api.clock.advance(timedelta(minutes=5))
    await ok(api, bob, old["id"], "bookmark")

    assert [p["id"] for p in await walk(api, BOOKMARKS, bob)] == [old["id"], new["id"]]
    assert all(p["bookmarked"] for p in await walk(api, BOOKMARKS, bob))
    # Bookmarking again does not move it; unbookmark removes it.
    await ok(api, bob, new["id"], "bookmark")
    assert [p["id"] for p in await walk(api, BOOKMARKS, bob)] == [old["id"], new["id"]]
    await ok(api, bob, old["id"], "unbookmark")
    assert [p["id"] for p in await walk(api, BOOKMARKS, bob)] == [new["id"]]


async def test_bookmarks_are_private(api: Api) -> None:
    alice, bob, mallory = await api.signup(), await api.signup(), await api.signup()
    p = await post(api, alice, "saved by bob")
    await ok(api, bob, p["id"], "bookmark")

    assert await walk(api, BOOKMARKS, mallory) == []
    assert await walk(api, BOOKMARKS, alice) == []  # not even the author sees who saved it
    r = await api.client.get(BOOKMARKS)
    assert r.status_code == 401
    # Paging does not leak either: a cursor from bob's list shows mallory only her own.
    await ok(api, mallory, p["id"], "bookmark")
    page, _ = await listing(api, BOOKMARKS, mallory, max_id=10**9)
    assert [x["id"] for x in page] == [p["id"]]
    assert (await ok(api, mallory, p["id"], "unbookmark"))["bookmark_count"] == 1


async def test_bookmark_pages_follow_the_link_header(api: Api) -> None:
    alice, bob = await api.signup(), await api.signup()
    posts = [(await post(api, alice, f"post {i}"))["id"] for i in range(5)]
    for post_id in reversed(posts):  # bookmarked newest post first
        await ok(api, bob, post_id, "bookmark")

    r = await api.client.get(BOOKMARKS, params={"limit": 2}, headers=bob.headers)
    assert [p["id"] for p in r.json()] == posts[:2]
    url = next_link(r)
    assert url is not None
    r = await api.client.get(url, headers=bob.headers)
    assert [p["id"] for p in r.json()] == posts[2:4]
    assert [p["id"] for p in await walk(api, BOOKMARKS, bob, limit=2)] == posts


async def test_deleted_posts_leave_bookmarks(api: Api) -> None:
    alice, bob = await api.signup(), await api.signup()
    keep = await post(api, alice, "keep")
    gone = await post(api, alice, "gone")
    await ok(api, bob, keep["id"], "bookmark")
    await ok(api, bob, gone["id"], "bookmark")
    assert (await delete(api, alice, gone["id"])).status_code == 200
    assert [p["id"] for p in await walk(api, BOOKMARKS, bob)] == [keep["id"]]
