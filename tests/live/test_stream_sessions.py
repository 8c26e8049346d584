"""The event stream and the sessions behind it: a revoked token's streams end at once, in
every process, and an account holds a bounded number of streams.

The stream is read straight off the ASGI app (:class:`LiveStream`): no server, no thread,
and each step waits for what the app sends, never for time to pass. On PostgreSQL the
stream and the log-out are on two apps (two processes' hubs, LISTEN/NOTIFY between them);
a SQLite database is served by one process, so there both are the same app.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest

from dropbell.app import create_app
from dropbell.clock import FakeClock
from dropbell.config import Settings
from tests.helpers import Api, User

pytestmark = pytest.mark.anyio

STREAM = "/api/v1/streaming/notifications"
WAIT = 10  # seconds: only a broken build ever waits this long


class LiveStream:
    """One GET of the event stream, driven on the ASGI app: the response as it arrives."""

    def __init__(self, app: Any, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.gone = asyncio.Event()  # the client hung up
        self.status = 0
        self.response_headers: dict[str, str] = {}
        self.body = b""
        self.done = False
        self.task: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, app: Any, headers: dict[str, str]) -> LiveStream:
        """Send the request; return once the status line and first bytes (or the error) came."""
        stream = cls(app, headers)
        stream.task = asyncio.create_task(stream._run())
        async with asyncio.timeout(WAIT):
            start = await stream.messages.get()
            stream.status = start["status"]
            stream.response_headers = {k.decode(): v.decode() for k, v in start["headers"]}
            await stream._read_one()
        return stream

    async def _run(self) -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": STREAM,
            "raw_path": STREAM.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"dropbell.test"), *self.headers],
            "client": ("127.0.0.1", 50000),
            "server": ("dropbell.test", 80),
        }
        sent_request = False

        async def receive() -> dict[str, Any]:
            nonlocal sent_request
            if not sent_request:
                sent_request = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await self.gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            await self.messages.put(message)

        await self.app(scope, receive, send)

    async def _read_one(self) -> bool:
        """The next body chunk; False once the response has ended."""
        message = await self.messages.get()
        self.body += message.get("body", b"")
        self.done = not message.get("more_body", False)
        return not self.done

    async def ended(self) -> bytes:
        """Wait until the server ends the response; everything it sent."""
        async with asyncio.timeout(WAIT):
            while await self._read_one():
                pass
            assert self.task is not None
            await self.task
        return self.body

    @property
    def open_now(self) -> bool:
        """Still running: nothing the server has sent so far ended the response."""
        while not self.messages.empty():
            if not self.messages.get_nowait().get("more_body", False):
                return False
        return self.task is not None and not self.task.done()

    async def hang_up(self) -> None:
        self.gone.set()
        assert self.task is not None
        async with asyncio.timeout(WAIT):
            await self.task


@pytest.fixture
async def other_process(
    app: Any, settings: Settings, clock: FakeClock, backend: str
) -> AsyncIterator[Any]:
    """The app's hub running (its lifespan) and the app a second process would be: on
    PostgreSQL another app on the same database, on SQLite the same one."""
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        other = app
        if backend == "postgresql":
            other = create_app(settings, clock)
            await stack.enter_async_context(other.router.lifespan_context(other))
        yield other


async def _second_token(api: Api, user: User) -> User:
    r = await api.client.post(
        "/api/v1/auth/token",
        json={"username": user.username, "password": "correct horse battery", "platform": "ios"},
    )
    assert r.status_code == 200, r.text
    return User(user.id, user.username, r.json()["access_token"])


async def test_revoking_a_token_ends_its_streams_at_once_in_every_process(
    api: Api, other_process: Any
) -> None:
    shopper = await api.signup()
    phone = await _second_token(api, shopper)
    revoked = await LiveStream.open(other_process, shopper.headers)
    kept = await LiveStream.open(other_process, phone.headers)
    assert (revoked.status, kept.status) == (200, 200)
    assert b"unread_count" in revoked.body

    r = await api.client.post("/api/v1/auth/revoke", headers=shopper.headers)
    assert r.status_code == 200
    await revoked.ended()  # without the fix it streams on (and this times out)
    assert kept.open_now  # the same account's other session goes on
    again = await LiveStream.open(other_process, shopper.headers)
    assert again.status == 401
    await kept.hang_up()


async def test_logging_out_of_the_web_ends_the_session_s_stream(
    api: Api, other_process: Any
) -> None:
    shopper = await api.signup()
    await api.client.get("/login")
    form = {
        "username": shopper.username,
        "password": "correct horse battery",
        "csrf_token": api.client.cookies["dropbell_csrf"],
    }
    assert (await api.client.post("/login", data=form)).status_code == 303
    cookie = f"dropbell_session={api.client.cookies['dropbell_session']}"
    stream = await LiveStream.open(other_process, {"Cookie": cookie})
    assert stream.status == 200
    csrf = {"csrf_token": api.client.cookies["dropbell_csrf"]}
    assert (await api.client.post("/logout", data=csrf)).status_code == 303
    await stream.ended()


async def test_an_account_holds_a_bounded_number_of_streams(api: Api, other_process: Any) -> None:
    api.app.state.settings.max_streams_per_account = 2
    shopper, other = await api.signup(), await api.signup()
    streams = [await LiveStream.open(api.app, shopper.headers) for _ in range(2)]
    assert [s.status for s in streams] == [200, 200]

    refused = await LiveStream.open(api.app, shopper.headers)
    assert refused.status == 429
    assert b'"code":"rate_limited"' in refused.body and b'"error":' in refused.body
    assert int(refused.response_headers["retry-after"]) >= 1
    theirs = await LiveStream.open(api.app, other.headers)
    assert theirs.status == 200  # the cap is per account

    await streams[0].hang_up()  # one closed: room for one more
    again = await LiveStream.open(api.app, shopper.headers)
    assert again.status == 200
    for stream in (streams[1], again, theirs):
        await stream.hang_up()
