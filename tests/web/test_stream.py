"""The notification stream over real HTTP: events, keep-alive, Last-Event-ID, several processes."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.web.support import Server, fresh_database, run_async, run_cli
from tests.web.test_shopper_journey import sign_up


class Stream:
    """Reads one SSE stream on a thread; events arrive on a queue."""

    def __init__(self, url: str, token: str, last_event_id: int | None = None) -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.comments = 0
        headers = {"Authorization": f"Bearer {token}"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self._client = httpx.Client(timeout=httpx.Timeout(30, read=None))
        self._response = self._client.send(
            self._client.build_request("GET", url, headers=headers), stream=True
        )
        assert self._response.status_code == 200, self._response.read()
        assert self._response.headers["content-type"].startswith("text/event-stream")
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        event, data, ident = "message", "", None
        try:
            for line in self._response.iter_lines():
                if line.startswith(":"):
                    self.comments += 1
                elif line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data = line[6:]
                elif line.startswith("id: "):
                    ident = int(line[4:])
                elif line == "" and data:
                    body = json.loads(data)
                    self.events.put((event, body if ident is None else {**body, "_id": ident}))
                    event, data, ident = "message", "", None
        except httpx.HTTPError:
            pass

    def next(self, kind: str, timeout: float = 10) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind} event within {timeout}s")
            event, body = self.events.get(timeout=left)
            if event == kind:
                return body

    def close(self) -> None:
        self._response.close()
        self._client.close()


@pytest.fixture
def fast_server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    srv = Server(database_url, tmp_path, env={"DROPBELL_STREAM_KEEPALIVE_SECONDS": "0.3"})
    try:
        yield srv
    finally:
        srv.stop()


def _setup(server: Server, n: int = 1) -> tuple[str, list[str], dict[str, Any]]:
    brand = server.signup("brand")
    run_cli(server.database_url, "partner", "add", "brand", "--shop-domain", "shop.example")
    drop = server.create_drop(brand, in_=timedelta(hours=1), title="Stream test")
    shoppers = []
    for i in range(n):
        token = server.signup(f"shopper{i}")
        assert server.api("POST", f"/api/v1/drops/{drop['id']}/remind", token).status_code == 200
        shoppers.append(token)
    return brand, shoppers, drop


def test_events_keepalive_read_and_resume(fast_server: Server) -> None:
    server = fast_server
    _, (token,), drop = _setup(server)
    r = server.http.get("/api/v1/streaming/notifications")
    assert r.status_code == 401

    stream = Stream(server.url("/api/v1/streaming/notifications"), token)
    try:
        assert stream.next("unread_count") == {"count": 0}
        launch = server.now() + timedelta(hours=1)
        server.set_clock(launch - timedelta(minutes=15))
        soon = stream.next("notification")
        listed = server.api("GET", "/api/v1/notifications", token).json()
        assert {**soon} == {**listed[0], "_id": listed[0]["id"]}  # exactly as the list shows it
        assert soon["type"] == "drop_soon" and soon["drop"]["id"] == drop["id"]
        assert soon["drop"]["reminded"] is True
        assert stream.next("unread_count") == {"count": 1}
        time.sleep(0.8)
        assert stream.comments >= 1  # keep-alive comment lines

        r = server.api("POST", f"/api/v1/notifications/{soon['id']}/read", token)
        assert r.status_code == 200
        assert stream.next("unread_count") == {"count": 0}
    finally:
        stream.close()

    # While disconnected the launch notice comes; resuming sends what was missed.
    server.set_clock(launch)
    deadline = time.monotonic() + 10
    while len(server.api("GET", "/api/v1/notifications", token).json()) < 2:
        assert time.monotonic() < deadline, "the launch notice never reached the inbox"
        time.sleep(0.05)
    resumed = Stream(server.url("/api/v1/streaming/notifications"), token, soon["id"])
    try:
        missed = resumed.next("notification")
        assert missed["type"] == "drop_live" and missed["_id"] > soon["id"]
        assert resumed.next("unread_count") == {"count": 1}
    finally:
        resumed.close()


def test_stream_reaches_a_second_server_process(tmp_path: Path, phone: object) -> None:
    """Two `dropbell serve` processes on one PostgreSQL: the one without a scheduler streams."""
    with fresh_database("postgresql", tmp_path) as url:
        scheduler = Server(url, tmp_path)
        api_only = Server(url, tmp_path, scheduler=False)
        try:
            _, (token,), drop = _setup(scheduler)
            stream = Stream(api_only.url("/api/v1/streaming/notifications"), token)
            page = phone.new_page()  # type: ignore[attr-defined]
            sign_up(page, api_only, "maria")
            page.goto(api_only.url(f"/drops/{drop['id']}"))
            page.get_by_role("button", name="Remind me").click()
            expect(page.get_by_role("button", name="Reminder set")).to_be_visible()
            assert stream.next("unread_count") == {"count": 0}

            launch = scheduler.now() + timedelta(hours=1)
            scheduler.set_clock(launch - timedelta(minutes=15))
            assert stream.next("notification")["type"] == "drop_soon"
            badge = page.locator("[data-unread-badge]").first
            expect(badge).to_contain_text("1")
            stream.close()
        finally:
            api_only.stop()
            scheduler.stop()


def test_a_worker_process_publishes_to_streams(tmp_path: Path) -> None:
    """A scheduler outside the API process (as `dropbell worker` runs it) reaches its streams."""
    with fresh_database("postgresql", tmp_path) as url:
        api = Server(url, tmp_path, scheduler=False)
        try:
            _, (token,), drop = _setup(api)
            stream = Stream(api.url("/api/v1/streaming/notifications"), token)
            assert stream.next("unread_count") == {"count": 0}
            due = api.now() + timedelta(hours=1)
            run_async(_run_worker_once, url, due)
            event = stream.next("notification")
            assert (event["type"], event["drop"]["id"]) == ("drop_live", drop["id"])
            stream.close()
        finally:
            api.stop()


async def _run_worker_once(url: str, now: Any) -> None:
    from dropbell.cli import worker_processes
    from dropbell.clock import FakeClock
    from dropbell.config import Settings

    settings = Settings(database_url=url)
    async with worker_processes(settings, FakeClock(now)) as workers:
        await workers.scheduler.run_due()
