"""A brand's announcement reaches its followers' open streams after the drop's creation
commits, in every process (on PostgreSQL the stream is on another app: LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.helpers import Api
from tests.live.test_stream_sessions import WAIT, LiveStream, other_process

__all__ = ["other_process"]  # the fixture, used below
pytestmark = pytest.mark.anyio


async def _until(stream: LiveStream, marker: bytes) -> str:
    async with asyncio.timeout(WAIT):
        while marker not in stream.body:
            assert await stream._read_one()
    return stream.body.decode()


def _events(body: str, kind: str) -> list[Any]:
    found = []
    for block in body.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if lines.get("event") == kind:
            found.append(json.loads(lines["data"]))
    return found


async def test_followers_streams_get_the_announcement(api: Api, other_process: Any) -> None:
    brand, fan, stranger = await api.partner(), await api.signup(), await api.signup()
    r = await api.client.post(f"/api/v1/accounts/{brand.id}/follow", headers=fan.headers)
    assert r.status_code == 200, r.text
    fans = await LiveStream.open(other_process, fan.headers)
    theirs = await LiveStream.open(other_process, stranger.headers)
    drop = await api.create_drop(brand, title="Wool coat")
    body = await _until(fans, b"event: notification")
    [notice] = _events(body, "notification")
    assert notice["type"] == "drop_announced" and notice["read"] is False
    assert notice["drop"]["id"] == drop["id"] and notice["account"]["id"] == brand.id
    assert notice["drop"]["reminded"] is False
    [listed] = await api.inbox(fan)
    assert notice == listed  # the stream says what the list says
    await _until(fans, b'"count":1')
    # An event for the stranger that comes after the announcement: theirs is the like alone.
    post = await api.client.post("/api/v1/posts", headers=stranger.headers, json={"text": "hi"})
    await api.client.post(f"/api/v1/posts/{post.json()['id']}/like", headers=fan.headers)
    body = await _until(theirs, b"event: notification")
    assert [n["type"] for n in _events(body, "notification")] == ["like"]
    for stream in (fans, theirs):
        await stream.hang_up()
