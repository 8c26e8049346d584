"""Web Push end to end, with nothing inside dropbell stubbed: a real ``dropbell serve``
(its scheduler and push worker), the local push service (``dropbell.push.testservice``:
it checks VAPID and the headers and decrypts each push with the subscription's keys),
and a real Chromium whose notifications go to the D-Bus desktop stand-in.

The shopper turns notifications on through the page (the offer after Remind me). The
browser's ``PushManager`` is the only stand-in (a browser in the sandbox cannot reach a
real push service): it hands out an endpoint on the local push service with the keys
that service decrypts with. At the launch the server pushes; the bytes the push service
decrypted are handed, unchanged, to the page's service worker through the DevTools
protocol (what the browser does with a push it received), and the shopper taps the
notification, lands on the drop's page marked ``source=push`` and shops.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import http_ece  # type: ignore[import-untyped]
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from dropbell.push.testservice import LocalPushService, Received, derive_keys
from tests.web.conftest import screenshot
from tests.web.desktop import NotificationDesktop
from tests.web.support import CHROMIUM, CHROMIUM_ARGS, Server, ShopSite, run_cli
from tests.web.test_push_journey import (
    FAKE_PUSH_MANAGER,
    log_in,
    registration_id,
    wait_for_notifications,
)

T = TypeVar("T")
DEADLINE = 20.0  # seconds to wait for something the server does by itself


class PushServiceThread:
    """The local push service on an event loop of its own (Playwright owns this thread's).

    It keeps the plaintext bytes of every push it accepted as valid, in the order of
    ``received``, and its clock follows the server's fake clock (moved by the test), so
    a VAPID token's ``exp`` is checked against the time the server signed it at.
    """

    def __init__(self) -> None:
        self.clock = datetime.now(UTC)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.plaintexts: list[bytes] = []
        plaintexts = self.plaintexts

        class Recording(LocalPushService):
            def _check(
                self, name: str, headers: dict[str, str], body: bytes
            ) -> tuple[dict[str, Any], dict[str, Any]]:
                checked = super()._check(name, headers, body)  # raises when a check fails
                keys = derive_keys(self.seed, name)
                plaintexts.append(
                    http_ece.decrypt(
                        body,
                        private_key=keys.private,
                        auth_secret=keys.auth_secret,
                        version="aes128gcm",
                    )
                )
                return checked

        self.service = Recording(now=lambda: self.clock)
        self.run(self.service.start())

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def received(self, token: str, kind: str | None = None) -> list[tuple[Received, bytes]]:
        received = list(self.service.received)  # then the plaintexts, kept just before each
        pairs = list(zip(received, self.plaintexts[: len(received)], strict=True))
        return [
            (r, raw)
            for r, raw in pairs
            if r.token == token and (kind is None or r.payload.get("type") == kind)
        ]

    def stop(self) -> None:
        self.run(self.service.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


def wait_until(what: str, check: Callable[[], T | None], timeout: float = DEADLINE) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def push_service() -> Iterator[PushServiceThread]:
    service = PushServiceThread()
    yield service
    service.stop()


@pytest.fixture
def server(database_url: str, tmp_path: Path, push_service: PushServiceThread) -> Iterator[Server]:
    """Remind me on every platform (the shopper uses Android Chrome), pushes to loopback."""
    srv = Server(
        database_url,
        tmp_path,
        env={
            "DROPBELL_ROLLOUT_PLATFORMS": "*",
            "DROPBELL_PUSH_ALLOWED_HOSTS": push_service.service.host_port,
            "DROPBELL_VAPID_SUBJECT": "mailto:ops@dropbell.test",
        },
    )
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def desktop() -> Iterator[NotificationDesktop]:
    desk = NotificationDesktop()
    yield desk
    desk.stop()


@pytest.fixture
def android(
    playwright: Any,
    devices: dict[str, dict[str, Any]],
    desktop: NotificationDesktop,
    tmp_path: Path,
) -> Iterator[BrowserContext]:
    """A shopper's Android phone: Chromium with a profile of its own, notifying ``desktop``."""
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": desktop.address, "NO_AT_BRIDGE": "1"}
    context: BrowserContext = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        env=env,
        timezone_id="America/New_York",
        ignore_https_errors=True,
        **devices["android"],
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


def session_token(context: BrowserContext, server: Server) -> str:
    for cookie in context.cookies(server.base):
        if cookie["name"] == "dropbell_session":
            return str(cookie["value"])
    raise AssertionError("not logged in")


def test_a_launch_push_reaches_the_phone_and_its_tap_is_a_push_shop_click(
    server: Server,
    push_service: PushServiceThread,
    android: BrowserContext,
    desktop: NotificationDesktop,
    shop: ShopSite,
    database_url: str,
) -> None:
    service = push_service.service
    brand = server.signup("unionla", display_name="Union Los Angeles")
    run_cli(database_url, "partner", "add", "unionla", "--shop-domain", shop.domain)
    drop = server.create_drop(
        brand,
        in_=timedelta(hours=2),
        title="Union x Jordan 4 “Desert Moss”",
        price="225.00",
        currency="USD",
        tag="unionj4",
        shop_url=shop.url("/products/jordan-4-desert-moss"),
        image_url="/static/demo/sneaker.svg",
    )
    launch = datetime.fromisoformat(drop["launch_at"])
    r = server.http.get("/api/v1/push/key")
    assert r.status_code == 200, r.text
    server_key = r.json()["public_key"]
    service.server_key = server_key  # the push service refuses pushes signed with another

    # Maya turns notifications on from the offer after Remind me. Her browser's push
    # subscription is an endpoint on the local push service, with keys it decrypts with.
    keys = derive_keys(service.seed, "maya-phone")
    values = {"endpoint": f"{service.origin}/push/maya-phone", "p256dh": keys.p256dh}
    values["auth"] = keys.auth
    android.add_init_script(FAKE_PUSH_MANAGER % {k: json.dumps(v) for k, v in values.items()})
    android.grant_permissions(["notifications"], origin=server.base)
    server.signup("maya")
    page = android.pages[0] if android.pages else android.new_page()
    page.on("console", lambda m: print("console:", m.type, m.text))
    log_in(page, server, "maya")
    card = page.locator(f'[data-drop-id="{drop["id"]}"]')
    card.get_by_role("button", name="Remind me").click()
    offer = page.locator(f'[data-drop-id="{drop["id"]}"] [data-push-offer]')
    offer.get_by_role("button", name="Turn on notifications").click()
    expect(offer.get_by_text("Notifications are on for this device.")).to_be_visible()
    maya_session = session_token(android, server)
    r = server.api("GET", "/api/v1/push/subscription", maya_session)
    assert r.status_code == 200, r.text
    maya_token = "1"  # the stand-in PushManager's first subscription: /push/maya-phone/1
    assert r.json()["endpoint"] == service.subscription(maya_token, keys="maya-phone").endpoint
    assert r.json()["server_key"] == server_key
    assert r.json()["alerts"]["drop_live"] is True

    # Noor subscribes through the API; her push service will say the subscription is gone.
    noor = server.signup("noor", platform="android")
    noor_device = service.subscription("noor-phone")
    r = server.api(
        "POST", "/api/v1/push/subscription", noor, json={"subscription": noor_device.as_json()}
    )
    assert r.status_code == 200, r.text
    assert server.api("POST", f"/api/v1/drops/{drop['id']}/remind", noor).status_code == 200
    service.script(noor_device.token, 410)

    # The launch: the server's scheduler releases the notice, its push worker pushes it.
    push_service.clock = launch
    server.set_clock(launch)
    ((live, raw),) = wait_until(
        "the launch push to Maya's phone", lambda: push_service.received(maya_token, "drop_live")
    )
    assert service.problems == []
    assert live.status == 201
    assert live.headers["ttl"] == "3600"  # the launch notice lives an hour
    assert live.headers["urgency"] == "high"
    assert live.headers["topic"] == f"drop-{drop['id']}"
    assert live.headers["content-encoding"] == "aes128gcm"
    vapid = dict(
        part.strip().split("=", 1)
        for part in live.headers["authorization"].removeprefix("vapid ").split(",")
    )
    assert vapid["k"] == server_key
    assert live.claims == {
        "aud": service.origin,
        "exp": int((launch + timedelta(hours=12)).timestamp()),
        "sub": "mailto:ops@dropbell.test",
    }
    payload = json.loads(raw)
    assert payload == live.payload
    drop_url = server.url(f"/drops/{drop['id']}?source=push")
    assert payload == {
        "title": "Union x Jordan 4 “Desert Moss” is live",
        "body": "Union Los Angeles · shop it now.",
        "icon": server.url("/static/icons/icon-192.png"),
        "url": drop_url,
        "tag": f"drop-{drop['id']}-live",
        "notification_id": payload["notification_id"],
        "type": "drop_live",
    }
    assert isinstance(payload["notification_id"], int)

    # Noor's push service answered 410: the server removed her subscription.
    wait_until("Noor's launch push", lambda: push_service.received(noor_device.token))
    wait_until(
        "Noor's subscription to be removed",
        lambda: server.api("GET", "/api/v1/push/subscription", noor).status_code == 404,
    )
    maya_sub = server.api("GET", "/api/v1/push/subscription", maya_session)
    assert maya_sub.status_code == 200  # Maya's is kept

    # The phone's browser gets exactly those bytes and hands them to the service worker.
    cdp = android.new_cdp_session(page)
    registration = registration_id(page, cdp, server.url("/"))
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": server.base, "registrationId": registration, "data": raw.decode()},
    )
    (shown,) = wait_for_notifications(page, 1)
    assert shown["title"] == payload["title"]
    assert shown["body"] == payload["body"]
    assert shown["tag"] == payload["tag"]
    assert shown["data"]["url"] == drop_url
    on_screen = desktop.wait_for(payload["title"])
    assert len(desktop.on_screen) == 1

    # Maya taps it: the drop's page opens, marked as coming from a push, and she shops.
    with android.expect_page() as opened:
        desktop.click(on_screen)
    drop_page: Page = opened.value
    drop_page.wait_for_load_state()
    assert drop_page.url == drop_url
    expect(drop_page.get_by_role("heading", name=re.compile("Desert Moss"))).to_be_visible()
    shop_link = drop_page.get_by_role("link", name="Shop on website")
    expect(shop_link).to_be_visible()
    expect(drop_page.locator(".chip-live")).to_be_visible()
    assert desktop.on_screen == {}
    screenshot(drop_page, "push-opened", database_url)
    shop_link.scroll_into_view_if_needed()
    shop_link.click()
    expect(drop_page.get_by_role("heading", name="Brand shop")).to_be_visible()
    assert drop_page.url == shop.url("/products/jordan-4-desert-moss")

    accepted = [
        r
        for r in service.received
        if r.status == 201 and r.payload["url"].startswith(server.url(f"/drops/{drop['id']}?"))
    ]

    def settled() -> dict[str, Any] | None:
        stats = server.api("GET", f"/api/v1/drops/{drop['id']}/stats", brand).json()
        return stats if stats["push"]["pending"] == 0 else None

    stats = wait_until("the drop's pushes to be recorded", settled)
    assert stats["shop_clicks"]["push"] == 1
    assert stats["shop_clicks"]["total"] == 1
    assert stats["push"]["sent"] >= 1
    assert stats["push"]["sent"] == len(accepted)  # the ledger agrees with the push service
    assert stats["push"]["removed_subscriptions"] == 1
    assert stats["push"]["failed"] == 0 and stats["push"]["expired"] == 0

    # Later, the same launch is not pushed again. What shows the worker got that far: the
    # launch of a later drop Maya is reminded of, pushed after the clock moved past both.
    later = server.create_drop(
        brand,
        in_=timedelta(minutes=20),
        title="Desert Moss restock",
        shop_url=shop.url("/products/jordan-4-desert-moss"),
    )
    maya_api = server.token("maya", "android")
    r = server.api("POST", f"/api/v1/drops/{later['id']}/remind", maya_api, json={"offsets": []})
    assert r.status_code == 200, r.text
    push_service.clock = launch + timedelta(minutes=30)
    server.set_clock(push_service.clock)

    def later_live() -> bool:
        return any(
            r.payload["tag"] == f"drop-{later['id']}-live"
            for r, _ in push_service.received(maya_token, "drop_live")
        )

    wait_until("the later drop's launch push", later_live)
    time.sleep(0.5)  # a moment more for anything else the worker had queued
    again = [
        r for r, _ in push_service.received(maya_token, "drop_live") if r.payload["url"] == drop_url
    ]
    assert len(again) == 1
    assert len(push_service.received(noor_device.token)) == 1  # removed: never pushed again
    assert service.problems == []
    stats = server.api("GET", f"/api/v1/drops/{drop['id']}/stats", brand).json()
    assert stats["push"]["sent"] == len(accepted)
