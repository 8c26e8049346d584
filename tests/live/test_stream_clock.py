"""The stream carries the server's time, so a page with a wrong device clock counts down right."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest

from dropbell.clock import FakeClock
from tests.helpers import Api
from tests.live.test_stream_sessions import LiveStream, other_process

__all__ = ["other_process"]  # the fixture, used below
pytestmark = pytest.mark.anyio


async def test_a_stream_opens_with_the_server_s_time(
    api: Api, other_process: Any, clock: FakeClock
) -> None:
    shopper = await api.signup()
    clock.advance(3 * 3600 + 7)
    stream = await LiveStream.open(other_process, shopper.headers)
    now = clock.now().astimezone(UTC).isoformat().replace("+00:00", "Z")
    body = stream.body.decode()
    assert f'event: clock\ndata: {{"now":"{now}"}}\n\n' in body
    assert body.index("event: clock") < body.index("event: unread_count")
    await stream.hang_up()
