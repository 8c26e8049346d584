"""Remind me under a rush: many shoppers tapping, and taking it back, at once."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest
from sqlalchemy import func, select

from dropbell.reminders.models import Reminder
from tests.helpers import Api, User

pytestmark = pytest.mark.anyio

SHOPPERS = 20


async def _held(api: Api, drop_id: int) -> int:
    async with api.app.state.sessionmaker() as session:
        query = (
            select(func.count())
            .select_from(Reminder)
            .where(Reminder.drop_id == drop_id, Reminder.ended_at.is_(None))
        )
        return int(await session.scalar(query) or 0)


async def _tap(api: Api, user: User, drop_id: int, action: str) -> httpx.Response:
    return await api.client.post(f"/api/v1/drops/{drop_id}/{action}", headers=user.headers)


async def test_taps_at_once_keep_the_count_equal_to_the_reminders_held(api: Api) -> None:
    brand = await api.partner("rush_brand")
    drop = await api.create_drop(brand, title="Rush", tag="rush")
    shoppers = [await api.signup() for _ in range(SHOPPERS)]
    # Everyone taps Remind me three times at once: one reminder each.
    responses = await asyncio.gather(
        *(_tap(api, s, drop["id"], "remind") for s in shoppers for _ in range(3))
    )
    assert {r.status_code for r in responses} == {200}
    assert all(r.json()["reminded"] is True for r in responses)
    assert await _held(api, drop["id"]) == SHOPPERS
    shown = (await api.client.get(f"/api/v1/drops/{drop['id']}")).json()
    assert shown["reminder_count"] == SHOPPERS

    # Then a random mix of taps and undos, all at once.
    rng = random.Random(7)
    mix = [(s, rng.choice(["remind", "unremind"])) for s in shoppers for _ in range(4)]
    responses = await asyncio.gather(*(_tap(api, s, drop["id"], a) for s, a in mix))
    assert {r.status_code for r in responses} == {200}
    held = await _held(api, drop["id"])
    shown = (await api.client.get(f"/api/v1/drops/{drop['id']}")).json()
    assert shown["reminder_count"] == held


async def test_the_response_counts_what_the_tap_did(api: Api) -> None:
    brand = await api.partner("count_brand")
    drop = await api.create_drop(brand, title="Count", tag="count")
    first, second = await api.signup(), await api.signup()
    assert (await _tap(api, first, drop["id"], "remind")).json()["reminder_count"] == 1
    again = (await _tap(api, first, drop["id"], "remind")).json()
    assert again["reminder_count"] == 1 and again["reminded"] is True
    assert (await _tap(api, second, drop["id"], "remind")).json()["reminder_count"] == 2
    undone = (await _tap(api, first, drop["id"], "unremind")).json()
    assert undone["reminder_count"] == 1 and undone["reminded"] is False
    # Taking back a reminder one never had changes nothing.
    none = (await _tap(api, first, drop["id"], "unremind")).json()
    assert none["reminder_count"] == 1 and none["reminded"] is False
    # The drop as the tap shows it is the drop as anyone reads it.
    shown = (await api.client.get(f"/api/v1/drops/{drop['id']}", headers=second.headers)).json()
    tapped = (await _tap(api, second, drop["id"], "remind")).json()
    assert tapped == shown
