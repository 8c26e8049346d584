"""Writing, reading and deleting posts; bad input is refused and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import Api
from tests.posts.helpers import act, delete, get, ok, post, walk

pytestmark = pytest.mark.anyio


async def test_a_post_is_public_and_shows_its_author_tags_counts_and_link(api: Api) -> None:
    alice = await api.signup("alice")
    created = await post(api, alice, "  New colourway out Friday #Sneakers #drop_2030  ")

    assert created["text"] == "New colourway out Friday #Sneakers #drop_2030"
    assert created["author"] == {
        "id": alice.id,
        "username": "alice",
        "display_name": "alice",
        "is_partner": False,
    }
    assert created["tags"] == ["sneakers", "drop_2030"]
    assert created["created_at"] == "2030-01-01T12:00:00Z"
    assert created["drop"] is None
    assert created["url"] == f"http://dropbell.test/posts/{created['id']}"
    for field in ("like_count", "repost_count", "bookmark_count", "share_count"):
        assert created[field] == 0
    for field in ("liked", "reposted", "bookmarked"):
        assert created[field] is False

    r = await get(api, None, created["id"])  # no token needed to read
    assert r.status_code == 200
    assert r.json() == created


async def test_text_of_exactly_500_characters_is_accepted(api: Api) -> None:
    alice = await api.signup()
    text = "é" * 499 + "!"
    assert (await post(api, alice, text))["text"] == text


@pytest.mark.parametrize(
    "body",
    [
        {"text": ""},
        {"text": "   \n\t "},
        {"text": "x" * 501},
        {"text": "a\x00b"},
        {"text": 42},
        {},
        {"text": "hello", "author_id": 1},  # extra fields are refused, not ignored
    ],
    ids=["empty", "blank", "501", "nul", "number", "missing", "extra"],
)
async def test_bad_post_bodies_get_422_and_nothing_is_posted(
    api: Api, body: dict[str, Any]
) -> None:
    alice = await api.signup()
    r = await api.client.post("/api/v1/posts", json=body, headers=alice.headers)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid"
    assert r.json()["error"]
    assert await walk(api, "/api/v1/timelines/public") == []


async def test_posting_needs_a_token(api: Api) -> None:
    r = await api.client.post("/api/v1/posts", json={"text": "hi"})
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized"
    r = await api.client.post(
        "/api/v1/posts", json={"text": "hi"}, headers={"Authorization": "Bearer nope"}
    )
    assert r.status_code == 401


@pytest.mark.parametrize("method", ["get", "delete", "like", "unlike", "repost", "share"])
async def test_unknown_post_is_404(api: Api, method: str) -> None:
    alice = await api.signup()
    if method == "get":
        r = await api.client.get("/api/v1/posts/999", headers=alice.headers)
    elif method == "delete":
        r = await api.client.delete("/api/v1/posts/999", headers=alice.headers)
    else:
        r = await api.client.post(f"/api/v1/posts/999/{method}", headers=alice.headers)
    assert r.status_code == 404, r.text
    assert r.json() == {"error": "No such post.", "code": "not_found"}


@pytest.mark.parametrize("bad_id", ["0", "-1", "abc", str(2**63)])
async def test_a_post_id_that_cannot_exist_is_422(api: Api, bad_id: str) -> None:
    alice = await api.signup()
    r = await api.client.get(f"/api/v1/posts/{bad_id}")
    assert r.status_code == 422
    r = await api.client.post(f"/api/v1/posts/{bad_id}/like", headers=alice.headers)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid"


async def test_the_author_deletes_a_post_and_it_is_gone_everywhere(api: Api) -> None:
    alice, bob = await api.signup(), await api.signup()
    keep = await post(api, alice, "stays #kicks")
    gone = await post(api, alice, "goes #kicks")
    await ok(api, bob, gone["id"], "like")
    await ok(api, bob, gone["id"], "bookmark")
    await ok(api, bob, gone["id"], "repost")

    r = await delete(api, alice, gone["id"])
    assert r.status_code == 200, r.text
    assert r.json()["id"] == gone["id"]
    assert r.json()["text"] == "goes #kicks"  # the post as it was, e.g. to write it again

    assert (await get(api, bob, gone["id"])).status_code == 404
    assert (await delete(api, alice, gone["id"])).status_code == 404
    for action in ("like", "unlike", "bookmark", "unbookmark", "repost", "share"):
        assert (await act(api, bob, gone["id"], action)).status_code == 404
    assert (await ok(api, bob, keep["id"], "like"))["like_count"] == 1
    timeline = await walk(api, "/api/v1/timelines/public")
    assert [p["id"] for p in timeline] == [keep["id"]]  # the post and bob's repost of it left
    assert [p["id"] for p in await walk(api, "/api/v1/tags/kicks")] == [keep["id"]]
    assert await walk(api, "/api/v1/bookmarks", bob) == []


async def test_nobody_deletes_someone_elses_post(api: Api) -> None:
    alice, mallory = await api.signup(), await api.signup()
    mine = await post(api, alice, "mine")

    r = await delete(api, mallory, mine["id"])
    assert r.status_code == 403
    assert r.json()["code"] == "not_author"
    r = await delete(api, None, mine["id"])
    assert r.status_code == 401
    assert (await get(api, None, mine["id"])).json() == mine


async def test_deleting_your_repost_undoes_it(api: Api) -> None:
    alice, bob, carol = await api.signup(), await api.signup(), await api.signup()
    original = await post(api, alice, "original")
    await ok(api, bob, original["id"], "repost")
    timeline = await walk(api, "/api/v1/timelines/public")
    repost_id = timeline[0]["id"]
    assert repost_id != original["id"]

    assert (await delete(api, carol, repost_id)).status_code == 403
    r = await delete(api, bob, repost_id)
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["reposted"], r.json()["repost_count"]) == (
        original["id"],
        False,
        0,
    )
    assert [p["id"] for p in await walk(api, "/api/v1/timelines/public")] == [original["id"]]
    after = (await get(api, bob, original["id"])).json()
    assert after["repost_count"] == 0
    assert after["reposted"] is False
