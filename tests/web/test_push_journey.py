"""Web Push in the browser: the service worker, a notification from a push, tapping it, and
turning notifications on (and choosing which) on the notifications page and after Remind me.

The browser is a real Chromium with a profile of its own, whose notifications go to a
desktop notification service on a private D-Bus (``tests/web/desktop.py``), so a test can
tap a notification the way a shopper does. Pushes reach the service worker through the
DevTools protocol (``ServiceWorker.deliverPushMessage``): a browser in the sandbox cannot
reach a real push service, so the page's ``PushManager`` hands out a subscription of our
own making, pointed at a local push service the server is allowed to use
(``DROPBELL_PUSH_ALLOWED_HOSTS``); the server side is the real one.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.sync_api import BrowserContext, Page, expect

from dropbell.push.keys import b64url
from tests.web.conftest import screenshot
from tests.web.desktop import NotificationDesktop
from tests.web.support import CHROMIUM, CHROMIUM_ARGS, PASSWORD, Server, run_async, run_cli


class PushService:
    """A push service on loopback that accepts every push (201) and keeps what it got."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                received.append((self.path, dict(self.headers), self.rfile.read(size)))
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# The page's PushManager, standing in for the browser's own (which would ask a real push
# service): a subscription to the local push service, with real P-256 keys, kept in
# localStorage like a browser keeps its subscription. Each subscribe() gets a new endpoint.
FAKE_PUSH_MANAGER = """
(() => {
  const ENDPOINT = %(endpoint)s, P256DH = %(p256dh)s, AUTH = %(auth)s;
  const STORE = "test.push-subscription";
  const toB64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  const fromB64 = (s) => Uint8Array.from(
    atob(s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - s.length %% 4) %% 4)),
    (c) => c.charCodeAt(0)).buffer;
  class Subscription {
    constructor(d) {
      this.endpoint = d.endpoint;
      this.expirationTime = null;
      this.options = { userVisibleOnly: true, applicationServerKey: fromB64(d.key) };
    }
    getKey(name) { return fromB64(name === "auth" ? AUTH : P256DH); }
    toJSON() {
      const keys = { p256dh: P256DH, auth: AUTH };
      return { endpoint: this.endpoint, expirationTime: null, keys };
    }
    async unsubscribe() { localStorage.removeItem(STORE); return true; }
  }
  PushManager.prototype.subscribe = async function (options) {
    if (Notification.permission !== "granted") {
      throw new DOMException("Registration failed - permission denied", "NotAllowedError");
    }
    const n = Number(localStorage.getItem(STORE + ".count") || 0) + 1;
    localStorage.setItem(STORE + ".count", String(n));
    const key = options.applicationServerKey;
    const d = { endpoint: `${ENDPOINT}/${n}`, key: typeof key === "string" ? key : toB64(key) };
    localStorage.setItem(STORE, JSON.stringify(d));
    return new Subscription(d);
  };
  PushManager.prototype.getSubscription = async function () {
    const d = localStorage.getItem(STORE);
    return d ? new Subscription(JSON.parse(d)) : null;
  };
})();
"""


def browser_keys() -> tuple[str, str]:
    """A browser's push keys: its P-256 public key and the auth secret, base64url."""
    private = ec.generate_private_key(ec.SECP256R1())
    point = private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return b64url(point), b64url(secrets.token_bytes(16))


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService()
    yield service
    service.stop()


@pytest.fixture
def server(database_url: str, tmp_path: Path, push_service: PushService) -> Iterator[Server]:
    """Remind me on every platform (these shoppers use Android Chrome), pushes to loopback."""
    srv = Server(
        database_url,
        tmp_path,
        env={
            "DROPBELL_ROLLOUT_PLATFORMS": "*",
            "DROPBELL_PUSH_ALLOWED_HOSTS": push_service.host,
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


class Phone:
    """A shopper's phone: Chromium with a profile of its own, its notifications on ``desktop``."""

    def __init__(
        self,
        playwright: Any,
        device: dict[str, Any],
        desktop: NotificationDesktop,
        profile: Path,
        server: Server,
        push_service: PushService,
    ) -> None:
        env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": desktop.address, "NO_AT_BRIDGE": "1"}
        self.context: BrowserContext = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            env=env,
            timezone_id="America/New_York",
            **device,
        )
        self.context.set_default_timeout(15_000)
        self.server = server
        self.endpoint = f"http://{push_service.host}/push/{secrets.token_hex(8)}"
        self.p256dh, self.auth = browser_keys()

    def allow_notifications(self) -> None:
        self.context.grant_permissions(["notifications"], origin=self.server.base)

    def fake_push_manager(self) -> None:
        values = {"endpoint": self.endpoint, "p256dh": self.p256dh, "auth": self.auth}
        self.context.add_init_script(
            FAKE_PUSH_MANAGER % {k: json.dumps(v) for k, v in values.items()}
        )

    def page(self) -> Page:
        page = self.context.pages[0] if self.context.pages else self.context.new_page()
        page.on("console", lambda m: print("console:", m.type, m.text))
        return page

    def session_token(self) -> str:
        """The web session's access token (the cookie), to ask the API what the server has."""
        for cookie in self.context.cookies(self.server.base):
            if cookie["name"] == "dropbell_session":
                return str(cookie["value"])
        raise AssertionError("not logged in")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def android(
    playwright: Any,
    devices: dict[str, dict[str, Any]],
    desktop: NotificationDesktop,
    tmp_path: Path,
    server: Server,
    push_service: PushService,
) -> Iterator[Phone]:
    phone = Phone(
        playwright, devices["android"], desktop, tmp_path / "profile", server, push_service
    )
    yield phone
    phone.close()


def log_in(page: Page, server: Server, username: str) -> None:
    page.goto(server.url("/login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Drops", exact=True)).to_be_visible()


def brand_with_drop(server: Server, **fields: Any) -> dict[str, Any]:
    brand = server.signup("unionla", display_name="Union Los Angeles")
    run_cli(server.database_url, "partner", "add", "unionla", "--shop-domain", "shop.example")
    body = {
        "title": "Union x Jordan 4 “Desert Moss”",
        "price": "225.00",
        "currency": "USD",
        "tag": "unionj4",
        "image_url": "/static/demo/sneaker.svg",
        **fields,
    }
    return server.create_drop(brand, in_=timedelta(hours=2), **body)


def server_subscription(phone: Phone) -> dict[str, Any] | None:
    r = phone.server.api("GET", "/api/v1/push/subscription", phone.session_token())
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    return dict(r.json())


SUBSCRIPTION_IN_BROWSER_JS = (
    "navigator.serviceWorker.ready.then((r) => r.pushManager.getSubscription())"
)
NOTIFICATIONS_JS = """
navigator.serviceWorker.ready
  .then((r) => r.getNotifications())
  .then((all) => all.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data })))
"""


# How long to poll the browser for what a push or a registration shows: a worker, the push
# service and the browser share two cores with the rest of the suite (5 s was seen to be
# too short under a load average of 8).
BROWSER_WAIT_SECONDS = 30


def registration_id(page: Page, cdp: Any, scope: str) -> str:
    """The service worker registration's id, from the DevTools protocol's events."""
    found: dict[str, str] = {}

    def updated(event: dict[str, Any]) -> None:
        for reg in event["registrations"]:
            if not reg.get("isDeleted"):
                found[reg["scopeURL"]] = reg["registrationId"]

    cdp.on("ServiceWorker.workerRegistrationUpdated", updated)
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + BROWSER_WAIT_SECONDS
    while time.monotonic() < deadline:
        if scope in found:
            return found[scope]
        page.wait_for_timeout(50)
    raise AssertionError(f"no service worker registration for {scope}: {found}")


def wait_for_notifications(page: Page, count: int, body: str | None = None) -> list[Any]:
    shown: list[Any] = []
    deadline = time.monotonic() + BROWSER_WAIT_SECONDS
    while time.monotonic() < deadline:
        shown = page.evaluate(NOTIFICATIONS_JS)
        if len(shown) == count and (body is None or shown[0]["body"] == body):
            return shown
        page.wait_for_timeout(50)
    raise AssertionError(f"expected {count} notification(s) ({body!r}), got {shown}")


# --- the service worker, a push, a tap ------------------------------------------------------


def test_push_shows_one_notification_per_tag_and_a_tap_opens_the_drop(
    server: Server, android: Phone, desktop: NotificationDesktop, database_url: str
) -> None:
    # Served at the root, for the whole site, never cached; the manifest beside it.
    sw = server.http.get("/sw.js")
    assert sw.status_code == 200
    assert sw.headers["content-type"].startswith("text/javascript")
    assert sw.headers["service-worker-allowed"] == "/"
    assert sw.headers["cache-control"] == "no-cache"
    manifest = server.http.get("/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    app = manifest.json()
    assert (app["start_url"], app["display"], app["short_name"]) == ("/", "standalone", "dropbell")
    sizes = {icon["sizes"] for icon in app["icons"] if icon["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    for icon in app["icons"]:
        assert server.http.get(icon["src"]).status_code == 200

    drop = brand_with_drop(server)
    maya = server.signup("maya")
    r = server.api("POST", f"/api/v1/drops/{drop['id']}/remind", maya)
    assert r.status_code == 200, r.text
    android.allow_notifications()
    page = android.page()
    log_in(page, server, "maya")
    assert page.locator('link[rel="manifest"]').get_attribute("href") == "/manifest.webmanifest"
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == server.url("/")

    # A push, as the server sends it (the browser decrypts it before the worker sees it).
    cdp = android.context.new_cdp_session(page)
    registration = registration_id(page, cdp, server.url("/"))
    drop_url = server.url(f"/drops/{drop['id']}?source=push")
    push = {
        "title": "Union x Jordan 4 “Desert Moss” starts in 15 minutes",
        "body": "Union Los Angeles · 10:00 AM EST",
        "icon": "/static/icons/icon-192.png",
        "url": drop_url,
        "tag": f"drop-{drop['id']}",
        "notification_id": 1,
        "type": "drop_soon",
    }

    def deliver(payload: dict[str, Any]) -> None:
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": server.base, "registrationId": registration, "data": json.dumps(payload)},
        )

    deliver(push)
    (shown,) = wait_for_notifications(page, 1)
    assert shown["title"] == push["title"]
    assert shown["body"] == push["body"]
    assert shown["tag"] == f"drop-{drop['id']}"
    assert shown["data"]["url"] == drop_url
    on_screen = desktop.wait_for(push["title"])
    assert push["body"] in on_screen.body

    # The same notice pushed again (a retry): it replaces the first, never a second one.
    deliver({**push, "body": "Union Los Angeles · in 14 minutes"})
    (shown,) = wait_for_notifications(page, 1, body="Union Los Angeles · in 14 minutes")
    assert shown["tag"] == f"drop-{drop['id']}"
    assert len(desktop.on_screen) == 1
    assert on_screen.replaced == 1 and "in 14 minutes" in on_screen.body

    # Tapping it closes it and opens the drop's page, marked as coming from a push.
    with android.context.expect_page() as opened:
        desktop.click(on_screen)
    drop_page = opened.value
    drop_page.wait_for_load_state()
    assert drop_page.url == drop_url
    expect(drop_page.get_by_role("heading", name=re.compile("Desert Moss"))).to_be_visible()
    expect(drop_page.get_by_role("button", name="Reminder set")).to_be_visible()
    assert wait_for_notifications(page, 0) == []
    assert desktop.on_screen == {}

    # Tapping one for a drop already open in a tab focuses that tab instead of a new one.
    deliver({**push, "tag": "again", "title": "Desert Moss is live now"})
    again = desktop.wait_for("Desert Moss is live now")
    pages = len(android.context.pages)
    desktop.click(again)
    wait_for_notifications(page, 0)
    drop_page.wait_for_timeout(300)
    assert len(android.context.pages) == pages


# --- turning notifications on -------------------------------------------------------------


def test_turn_on_choose_and_turn_off_on_the_notifications_page(
    server: Server, android: Phone, database_url: str
) -> None:
    server.signup("maya")
    android.allow_notifications()
    android.fake_push_manager()
    page = android.page()
    log_in(page, server, "maya")
    page.get_by_role("link", name=re.compile("Notifications")).click()
    panel = page.locator("[data-push-panel]")
    expect(panel.get_by_role("heading", name="Notifications on this device")).to_be_visible()
    assert server_subscription(android) is None

    panel.get_by_role("button", name="Turn on notifications on this device").click()
    expect(panel.get_by_text("Notifications are on for this device.")).to_be_visible()
    sub = server_subscription(android)
    assert sub is not None
    assert sub["endpoint"] == f"{android.endpoint}/1"
    assert sub["alerts"] == {
        "drop_soon": True,
        "drop_live": True,
        "drop_rescheduled": True,
        "drop_cancelled": True,
        "drop_announced": True,
        "like": False,
        "repost": False,
    }
    expect(panel.get_by_role("switch", name=re.compile("Drop reminders"))).to_be_checked()
    expect(panel.get_by_role("switch", name=re.compile("Likes"))).not_to_be_checked()

    # One switch per kind; "Changes" is both a new launch time and a cancellation.
    panel.get_by_role("switch", name=re.compile("Likes")).check()
    expect(panel.locator("[data-push-message]")).to_have_text("Saved.")
    panel.get_by_role("switch", name=re.compile("Changes")).uncheck()
    expect(panel.get_by_role("switch", name=re.compile("Changes"))).not_to_be_checked()
    page.wait_for_function(
        "() => document.querySelector('[data-push-message]').textContent === 'Saved.'"
    )
    alerts = _wait_alerts(android, {"like": True, "drop_rescheduled": False})
    assert alerts["drop_cancelled"] is False and alerts["repost"] is False

    # Every visit sends the subscription again (the choices kept): here the server lost it.
    r = server.api("DELETE", "/api/v1/push/subscription", android.session_token())
    assert r.status_code == 200
    page.reload()
    expect(panel.get_by_text("Notifications are on for this device.")).to_be_visible()
    sub = server_subscription(android)
    assert sub is not None and sub["endpoint"] == f"{android.endpoint}/1"
    page.get_by_role("switch", name=re.compile("Likes")).check()
    _wait_alerts(android, {"like": True})
    page.reload()
    expect(panel.get_by_role("switch", name=re.compile("Likes"))).to_be_checked()
    expect(panel.get_by_role("switch", name=re.compile("Changes"))).to_be_checked()
    screenshot(page, "push-settings", database_url)

    # A new server key (the operator rotated it): this browser subscribes again with it.
    old_key = sub["server_key"]
    run_async(_rotate_key, server.database_url)
    page.reload()
    expect(panel.get_by_text("Notifications are on for this device.")).to_be_visible()
    sub = _wait_endpoint(android, f"{android.endpoint}/2")
    assert sub["server_key"] != old_key
    key_in_browser = page.evaluate(
        "navigator.serviceWorker.ready.then((r) => r.pushManager.getSubscription())"
        ".then((s) => btoa(String.fromCharCode(...new Uint8Array(s.options.applicationServerKey)))"
        ".replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, ''))"
    )
    assert key_in_browser == sub["server_key"]

    panel.get_by_role("button", name="Turn off on this device").click()
    expect(panel.get_by_role("button", name="Turn on notifications on this device")).to_be_visible()
    assert server_subscription(android) is None
    assert page.evaluate(SUBSCRIPTION_IN_BROWSER_JS) is None


def _wait_alerts(phone: Phone, expected: dict[str, bool]) -> dict[str, bool]:
    alerts: dict[str, bool] = {}
    deadline = time.monotonic() + BROWSER_WAIT_SECONDS
    while time.monotonic() < deadline:
        sub = server_subscription(phone)
        alerts = sub["alerts"] if sub else {}
        if all(alerts.get(k) == v for k, v in expected.items()):
            return alerts
        phone.context.pages[0].wait_for_timeout(50)
    raise AssertionError(f"alerts {alerts}, expected {expected}")


def _wait_endpoint(phone: Phone, endpoint: str) -> dict[str, Any]:
    sub = None
    deadline = time.monotonic() + BROWSER_WAIT_SECONDS
    while time.monotonic() < deadline:
        sub = server_subscription(phone)
        if sub and sub["endpoint"] == endpoint:
            return sub
        phone.context.pages[0].wait_for_timeout(50)
    raise AssertionError(f"server has {sub}, expected endpoint {endpoint}")


async def _rotate_key(database_url: str) -> None:
    from dropbell.clock import SystemClock
    from dropbell.config import Settings
    from dropbell.context import Context
    from dropbell.db import make_engine, make_sessionmaker
    from dropbell.push.keys import rotate_key

    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await rotate_key(Context(session, SystemClock(), Settings(database_url=database_url)))
    finally:
        await engine.dispose()


def test_offer_after_remind_me(server: Server, android: Phone) -> None:
    drop = brand_with_drop(server)
    server.signup("maya")
    android.allow_notifications()
    android.fake_push_manager()
    page = android.page()
    log_in(page, server, "maya")
    card = page.locator(f'[data-drop-id="{drop["id"]}"]')
    expect(card.locator("[data-push-offer]")).to_have_count(0)
    card.get_by_role("button", name="Remind me").click()
    offer = page.locator(f'[data-drop-id="{drop["id"]}"] [data-push-offer]')
    expect(offer.get_by_text("Want a notification on this device when it starts?")).to_be_visible()
    offer.get_by_role("button", name="Turn on notifications").click()
    expect(offer.get_by_text("Notifications are on for this device.")).to_be_visible()
    sub = server_subscription(android)
    assert sub is not None and sub["alerts"]["drop_soon"] is True

    # Once on, the offer is not made again.
    page.goto(server.url(f"/drops/{drop['id']}"))
    expect(page.get_by_role("button", name="Reminder set")).to_be_visible()
    page.wait_for_timeout(300)
    expect(page.locator("[data-push-offer]")).to_be_hidden()

    # Logging out turns them off on this device: the next shopper on it starts with none.
    token = android.session_token()
    page.get_by_role("link", name="Profile", exact=True).click()
    # Loaded: push.js (deferred) has run and will turn them off when the form is sent.
    page.wait_for_url("**/settings", wait_until="load")
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.get_by_role("banner").get_by_role("link", name="Log in")).to_be_visible()
    assert page.evaluate(SUBSCRIPTION_IN_BROWSER_JS) is None
    assert server.api("GET", "/api/v1/push/subscription", token).status_code == 401
    server.signup("noor")
    log_in(page, server, "noor")
    page.wait_for_timeout(300)
    assert server_subscription(android) is None


def test_not_now_hides_the_offer(server: Server, android: Phone) -> None:
    drop = brand_with_drop(server)
    server.signup("maya")
    android.fake_push_manager()
    page = android.page()
    log_in(page, server, "maya")
    page.goto(server.url(f"/drops/{drop['id']}"))
    page.get_by_role("button", name="Remind me").click()
    offer = page.locator("[data-push-offer]")
    expect(offer.get_by_text("Want a notification on this device when it starts?")).to_be_visible()
    offer.get_by_role("button", name="Not now").click()
    expect(offer).to_be_hidden()
    page.reload()
    page.wait_for_timeout(300)
    expect(page.locator("[data-push-offer]")).to_be_hidden()
    assert server_subscription(android) is None


# --- when it cannot be turned on ---------------------------------------------------------------


def test_blocked_notifications_are_explained(server: Server, android: Phone) -> None:
    server.signup("maya")
    android.fake_push_manager()
    page = android.page()
    log_in(page, server, "maya")
    cdp = android.context.new_cdp_session(page)
    cdp.send(
        "Browser.setPermission",
        {"permission": {"name": "notifications"}, "setting": "denied", "origin": server.base},
    )
    page.goto(server.url("/notifications"))
    assert page.evaluate("Notification.permission") == "denied"
    panel = page.locator("[data-push-panel]")
    expect(
        panel.get_by_text("Notifications are blocked for dropbell in this browser.")
    ).to_be_visible()
    expect(panel.get_by_text("set Notifications to Allow, then reload this page")).to_be_visible()
    expect(panel.get_by_role("button", name="Turn on notifications on this device")).to_be_hidden()


def test_iphone_is_told_to_add_to_home_screen_first(server: Server, phone: Any) -> None:
    server.signup("maya")
    page = phone.new_page()
    log_in(page, server, "maya")
    page.goto(server.url("/notifications"))
    panel = page.locator("[data-push-panel]")
    expect(
        panel.get_by_text(
            "On iPhone, add dropbell to your Home Screen first (Share → Add to Home Screen), "
            "then turn on notifications there."
        )
    ).to_be_visible()
    expect(panel.get_by_role("button", name="Turn on notifications on this device")).to_be_hidden()
    assert (
        page.locator('meta[name="apple-mobile-web-app-capable"]').get_attribute("content") == "yes"
    )
    touch_icon = page.locator('link[rel="apple-touch-icon"]').get_attribute("href")
    assert touch_icon and server.http.get(touch_icon).status_code == 200
