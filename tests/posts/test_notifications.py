"""The author is told of likes and reposts: once each, never of their own."""

from __future__ import annotations

import pytest

from tests.helpers import Api
from tests.posts.helpers import delete, ok, post

pytestmark = pytest.mark.anyio


async def test_the_author_is_told_who_liked_and_reposted_which_post(api: Api) -> None:
    alice, bob = await api.signup("alice"), await api.signup("bob")
    p = await post(api, alice, "look #here")
    await ok(api, bob, p["id"], "like")
    await ok(api, bob, p["id"], "repost")

    inbox = await api.inbox(alice)
    assert [n["type"] for n in inbox] == ["repost", "like"]
    for n in inbox:
        assert n["account"] == {
            "id": bob.id,
            "username": "bob",
            "display_name": "bob",
            "is_partner": False,
        }
        assert n["post"]["id"] == p["id"]
        assert n["post"]["text"] == "look #here"
        assert n["post"]["like_count"] == 1
        assert n["read"] is False
        assert n["drop"] is None
    r = await api.client.get("/api/v1/notifications/unread_count", headers=alice.headers)
    assert r.json() == {"count": 2}
    assert await api.inbox(bob) == []
    liked_only = await api.inbox(alice, **{"types[]": "like"})
    assert [n["type"] for n in liked_only] == ["like"]


async def test_nobody_is_told_of_their_own_likes_or_reposts(api: Api) -> None:
    alice = await api.signup()
    p = await post(api, alice, "mine")
    await ok(api, alice, p["id"], "like")
    await ok(api, alice, p["id"], "repost")
    await ok(api, alice, p["id"], "bookmark")
    assert await api.inbox(alice) == []


async def test_like_unlike_like_and_repost_unrepost_repost_notify_once(api: Api) -> None:
    alice, bob, carol = await api.signup(), await api.signup(), await api.signup()
    p = await post(api, alice, "fickle")
    for action in ("like", "unlike", "like", "unlike", "like"):
        await ok(api, bob, p["id"], action)
    for action in ("repost", "unrepost", "repost"):
        await ok(api, bob, p["id"], action)
    await ok(api, carol, p["id"], "like")

    inbox = await api.inbox(alice)
    assert [(n["type"], n["account"]["id"]) for n in inbox] == [
        ("like", carol.id),
        ("repost", bob.id),
        ("like", bob.id),
    ]


async def test_bookmarks_and_shares_are_not_announced(api: Api) -> None:
    alice, bob = await api.signup(), await api.signup()
    p = await post(api, alice, "quietly saved")
    await ok(api, bob, p["id"], "bookmark")
    await ok(api, bob, p["id"], "share")
    assert await api.inbox(alice) == []


async def test_a_deleted_posts_notification_stays_without_the_post(api: Api) -> None:
    alice, bob = await api.signup(), await api.signup()
    p = await post(api, alice, "soon gone")
    await ok(api, bob, p["id"], "like")
    assert (await delete(api, alice, p["id"])).status_code == 200

    [n] = await api.inbox(alice)
    assert n["type"] == "like"
    assert n["post"] is None
    assert n["account"]["id"] == bob.id


async def test_the_brand_is_told_of_likes_on_its_drop_announcement(api: Api) -> None:
    brand, shopper = await api.partner(), await api.signup()
    drop = await api.create_drop(brand)
    await ok(api, shopper, drop["post_id"], "like")

    [n] = await api.inbox(brand)
    assert n["type"] == "like"
    assert n["post"]["drop"]["id"] == drop["id"]
