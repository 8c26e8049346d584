"""Counts equal the rows behind them while many clients toggle at once."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from sqlalchemy import func, select

from dropbell.notifications.models import Notification
from dropbell.posts.models import Bookmark, Like, Post, Repost
from tests.helpers import Api, User
from tests.posts.helpers import act, get, post, walk

pytestmark = pytest.mark.anyio

USERS = 24


async def _rows(api: Api, post_id: int) -> dict[str, int]:
    """What is really stored behind the counters."""
    async with api.app.state.sessionmaker() as session:

        async def count(query: Any) -> int:
            return int(await session.scalar(query) or 0)

        return {
            "like_count": await count(select(func.count()).where(Like.post_id == post_id)),
            "repost_count": await count(select(func.count()).where(Repost.reblog_of_id == post_id)),
            "bookmark_count": await count(select(func.count()).where(Bookmark.post_id == post_id)),
        }


async def _stray_timeline_entries(api: Api) -> int:
    """Rows in posts made for a repost that no longer (or never) had one: must be none."""
    async with api.app.state.sessionmaker() as session:
        linked = select(Repost.post_id)
        stray = select(func.count()).where(Post.text == "", Post.id.not_in(linked))
        return int(await session.scalar(stray) or 0)


async def _counts(api: Api, post_id: int) -> dict[str, int]:
    shown = (await get(api, None, post_id)).json()
    return {k: shown[k] for k in ("like_count", "repost_count", "bookmark_count")}


async def _signups(api: Api, n: int) -> list[User]:
    return [await api.signup() for _ in range(n)]


async def test_duplicate_toggles_at_once_count_once_and_notify_once(api: Api) -> None:
    author = await api.signup()
    users = await _signups(api, USERS)
    p = await post(api, author, "everyone at once")

    responses = await asyncio.gather(
        *(act(api, u, p["id"], action) for u in users for action in ["like", "repost"] * 3)
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]

    expected = {"like_count": USERS, "repost_count": USERS, "bookmark_count": 0}
    assert await _counts(api, p["id"]) == expected
    assert await _rows(api, p["id"]) == expected
    assert await _stray_timeline_entries(api) == 0
    async with api.app.state.sessionmaker() as session:
        notified = await session.scalar(
            select(func.count()).where(Notification.account_id == author.id)
        )
    assert notified == 2 * USERS


async def test_many_clients_toggling_leave_counts_equal_to_rows(api: Api) -> None:
    author = await api.signup()
    users = await _signups(api, USERS)
    p = await post(api, author, "toggle me")
    rng = random.Random(20300101)
    pairs = [("like", "unlike"), ("repost", "unrepost"), ("bookmark", "unbookmark")]
    final: dict[str, int] = {"like_count": 0, "repost_count": 0, "bookmark_count": 0}
    chains: list[list[str]] = []
    for _ in users:
        chain = [rng.choice(rng.choice(pairs)) for _ in range(8)]
        chains.append(chain)
        for (do, undo), count in zip(pairs, final, strict=True):
            last = [a for a in chain if a in (do, undo)]
            final[count] += bool(last) and last[-1] == do

    async def run(user: User, chain: list[str]) -> None:
        for action in chain:  # one client's taps in order; the clients race each other
            r = await act(api, user, p["id"], action)
            assert r.status_code == 200, r.text

    await asyncio.gather(*(run(u, c) for u, c in zip(users, chains, strict=True)))

    assert await _counts(api, p["id"]) == final
    assert await _rows(api, p["id"]) == final
    assert await _stray_timeline_entries(api) == 0
    timeline = await walk(api, "/api/v1/timelines/public", limit=80)
    assert len(timeline) == 1 + final["repost_count"]


async def test_a_client_racing_itself_still_leaves_counts_equal_to_rows(api: Api) -> None:
    author = await api.signup()
    users = await _signups(api, USERS)
    p = await post(api, author, "do and undo at once")

    responses = await asyncio.gather(
        *(
            act(api, u, p["id"], action)
            for u in users
            for action in ("like", "unlike", "bookmark", "unbookmark", "repost", "unrepost") * 2
        )
    )
    assert all(r.status_code == 200 for r in responses)

    counts = await _counts(api, p["id"])
    assert counts == await _rows(api, p["id"])
    assert await _stray_timeline_entries(api) == 0
    assert all(0 <= n <= USERS for n in counts.values())
