"""Times in the viewer's zone: a visitor's device zone, a shopper's saved zone (with a hint
when the device is elsewhere), countdowns from the server's clock whatever the device's
clock says, and "3 min ago" labels that keep up while the page stays open."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from dropbell.web.render import local_time
from tests.web.support import PASSWORD, Server, run_cli


@pytest.fixture
def tokyo(browser: Any, devices: dict[str, dict[str, object]]) -> Iterator[Any]:
    """A phone set to Tokyo time."""
    context = browser.new_context(**devices["iphone"], timezone_id="Asia/Tokyo")
    context.set_default_timeout(15_000)
    yield context
    context.close()


def day_and_clock(when: datetime, zone: str) -> str:
    """ "Thu 2 Jan 2030, 9:00 PM" of the server's "Thu 2 Jan 2030, 9:00 PM JST" (browsers
    abbreviate zones their own way)."""
    return local_time(when, zone).rsplit(" ", 1)[0]


def log_in(page: Page, server: Server, username: str) -> None:
    page.goto(server.url("/login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Drops", exact=True)).to_be_visible()


def test_a_visitor_sees_times_in_the_device_s_zone(server: Server, tokyo: Any) -> None:
    drop = _drop(server)
    launch = datetime.fromisoformat(drop["launch_at"])
    page = tokyo.new_page()

    # The first page is redone in Tokyo time by the script; the next ones come from the
    # server in Tokyo time (the browser told it its zone).
    page.goto(server.url(f"/drops/{drop['id']}"))
    when = page.locator(".drop-page .when time")
    expect(when).to_contain_text(day_and_clock(launch, "Asia/Tokyo"))
    page.reload()
    expect(when).to_have_text(local_time(launch, "Asia/Tokyo"))
    page.evaluate("document.cookie = 'dropbell_tz=; max-age=0; path=/'")
    html = server.http.get(f"/drops/{drop['id']}").text
    assert local_time(launch, "UTC") in html  # no zone known: UTC
    expect(page.locator("[data-tz-hint]")).to_have_count(0)  # visitors get no hint


def test_a_shopper_sees_the_saved_zone_with_a_hint_from_elsewhere(
    server: Server, tokyo: Any, browser: Any, devices: dict[str, dict[str, object]]
) -> None:
    drop = _drop(server)
    launch = datetime.fromisoformat(drop["launch_at"])
    server.signup("amelie", timezone="Europe/Paris", country="FR")

    page = tokyo.new_page()
    log_in(page, server, "amelie")
    page.goto(server.url(f"/drops/{drop['id']}"))
    expect(page.locator(".drop-page .when time")).to_have_text(local_time(launch, "Europe/Paris"))
    hint = page.locator("[data-tz-hint]")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("Times are shown in Europe/Paris, your account's time zone")
    expect(hint).to_contain_text("this device is set to Asia/Tokyo")
    expect(hint.get_by_role("link", name="Change it in Profile")).to_have_attribute(
        "href", "/settings#f-timezone"
    )

    # From a device in Paris (or a zone with the same clock), no hint.
    paris = browser.new_context(**devices["iphone"], timezone_id="Europe/Brussels")
    try:
        home = paris.new_page()
        log_in(home, server, "amelie")
        home.goto(server.url(f"/drops/{drop['id']}"))
        expect(home.locator(".drop-page .when time")).to_have_text(
            local_time(launch, "Europe/Paris")
        )
        expect(home.locator("[data-tz-hint]")).to_be_hidden()
    finally:
        paris.close()


def test_a_skewed_device_clock_still_counts_down_from_the_server_s(
    server: Server, tokyo: Any
) -> None:
    drop = _drop(server, in_=timedelta(minutes=30))
    page = tokyo.new_page()
    # The phone's clock is an hour fast.
    page.clock.install(time=datetime.now(UTC) + timedelta(hours=1))
    page.goto(server.url(f"/drops/{drop['id']}"))
    countdown = page.locator(".drop-page [data-countdown]")
    expect(countdown).to_have_text(re.compile(r"^Starts in (29:[0-5]\d|30:00)$"))
    # The device's date jumps (a wrong clock set by hand): the countdown does not.
    page.clock.set_system_time(datetime.now(UTC) - timedelta(days=1))
    page.wait_for_timeout(1500)
    expect(countdown).to_have_text(re.compile(r"^Starts in (29:[0-5]\d|30:00)$"))
    # Time passing on the server's clock (5 minutes here) is what moves it.
    page.clock.run_for(5 * 60 * 1000)
    expect(countdown).to_have_text(re.compile(r"^Starts in (24:[0-5]\d|25:00)$"))


def test_relative_labels_keep_updating(server: Server, tokyo: Any) -> None:
    maya = server.signup("maya")
    r = server.api("POST", "/api/v1/posts", maya, json={"text": "Who else is up for #Launch?"})
    assert r.status_code == 201, r.text
    page = tokyo.new_page()
    page.clock.install()
    page.goto(server.url("/tags/launch"))
    label = page.locator("article.post .post-time time")
    expect(label).to_have_text("just now")
    page.clock.run_for(3 * 60 * 1000)
    expect(label).to_have_text("3 min ago")
    page.clock.run_for(2 * 3600 * 1000)
    expect(label).to_have_text("2 h ago")


def _drop(server: Server, *, in_: timedelta = timedelta(hours=9)) -> dict[str, Any]:
    brand = server.signup("lego", display_name="LEGO")
    run_cli(server.database_url, "partner", "add", "lego", "--shop-domain", "shop.example")
    return server.create_drop(brand, in_=in_, title="Botanical Orchid Set")
