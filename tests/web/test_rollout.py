"""Shoppers outside the rollout see drops as posts, with a short line that says why."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.web.support import Server
from tests.web.test_shopper_journey import sign_up

# The original partner test's rollout (docs/operations.md): iPhone app, US, English.
ORIGINAL_TEST = {
    "DROPBELL_ROLLOUT_PLATFORMS": "ios",
    "DROPBELL_ROLLOUT_COUNTRIES": "US",
    "DROPBELL_ROLLOUT_LANGUAGES": "en",
}


@pytest.fixture
def limited(database_url: str, tmp_path: Path) -> Iterator[Server]:
    srv = Server(database_url, tmp_path, env=ORIGINAL_TEST)
    try:
        yield srv
    finally:
        srv.stop()


def test_with_the_defaults_an_android_shopper_can_remind(server: Server, android: object) -> None:
    brand = server.signup("lego", display_name="LEGO")
    from tests.web.support import run_cli

    run_cli(server.database_url, "partner", "add", "lego", "--shop-domain", "shop.example")
    drop = server.create_drop(brand, in_=timedelta(hours=5), title="Night Market")
    page = android.new_page()  # type: ignore[attr-defined]
    sign_up(page, server, "omar")
    card = page.locator(f'[data-drop-id="{drop["id"]}"]')
    card.get_by_role("button", name="Remind me").click()
    expect(card.get_by_role("button", name="Reminder set")).to_be_visible()


def sign_up_as_guessed(page: Page, server: Server, username: str, *, country: str) -> None:
    """The sign-up form as it comes: country and language guessed from the browser."""
    page.goto(server.url("/"))
    page.get_by_role("link", name="Sign up").click()
    expect(page.locator("#f-country")).to_have_value(country)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Drops", exact=True)).to_be_visible()


def test_a_desktop_web_user_signs_up_and_reminds_with_the_defaults(
    server: Server, browser: object
) -> None:
    """Everyone is in by default (docs/operations.md): a laptop's browser is platform ``web``,
    and the country and language are whatever the sign-up guessed from the browser."""
    brand = server.signup("arket", display_name="Arket")
    from tests.web.support import run_cli

    run_cli(server.database_url, "partner", "add", "arket", "--shop-domain", "shop.example")
    drop = server.create_drop(brand, in_=timedelta(hours=5), title="Wool Overshirt")
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 1280, "height": 860}, locale="en-GB", timezone_id="Europe/London"
    )
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        sign_up_as_guessed(page, server, "desk_shopper", country="GB")
        card = page.locator(f'[data-drop-id="{drop["id"]}"]')
        card.get_by_role("button", name="Remind me").click()
        expect(card.get_by_role("button", name="Reminder set")).to_be_visible()
        assert server.http.get(f"/api/v1/drops/{drop['id']}").json()["reminder_count"] == 1
    finally:
        context.close()


def test_android_shopper_sees_why_and_reminds_from_the_iphone(
    limited: Server, android: object, phone: object
) -> None:
    server = limited
    brand = server.signup("fossil", display_name="Fossil")
    from tests.web.support import run_cli

    run_cli(server.database_url, "partner", "add", "fossil", "--shop-domain", "shop.example")
    drop = server.create_drop(brand, in_=timedelta(hours=5), title="Gen 9 Hybrid")

    page = android.new_page()  # type: ignore[attr-defined]
    sign_up_as_guessed(page, server, "lena", country="US")
    card = page.locator(f'[data-drop-id="{drop["id"]}"]')
    expect(card.get_by_role("heading")).to_have_text("Gen 9 Hybrid")
    expect(card.get_by_role("button", name="Remind me")).to_have_count(0)
    expect(card.locator(".reason")).to_have_text("Remind me is not yet available on android.")

    # The platform is the client's: the profile does not ask for it ...
    page.get_by_role("link", name="Profile").click()
    expect(page.get_by_label("Time zone")).to_be_visible()
    expect(page.get_by_label("I use dropbell on")).to_have_count(0)

    # ... and the same account on an iPhone, the rollout's app, may remind.
    iphone = phone.new_page()  # type: ignore[attr-defined]
    iphone.goto(server.url("/login"))
    iphone.get_by_label("Username").fill("lena")
    iphone.get_by_label("Password").fill("correct horse battery")
    iphone.get_by_role("button", name="Log in").click()
    card = iphone.locator(f'[data-drop-id="{drop["id"]}"]')
    card.get_by_role("button", name="Remind me").click()
    expect(card.get_by_role("button", name="Reminder set")).to_be_visible()


def test_visitor_is_asked_to_log_in(server: Server, phone: object) -> None:
    brand = server.signup("dior", display_name="Dior")
    from tests.web.support import run_cli

    run_cli(server.database_url, "partner", "add", "dior", "--shop-domain", "shop.example")
    drop = server.create_drop(brand, in_=timedelta(hours=5), title="Saddle bag")
    page = phone.new_page()  # type: ignore[attr-defined]
    page.goto(server.url(f"/drops/{drop['id']}"))
    expect(page.locator(".reason")).to_contain_text("Log in to set a reminder.")
    page.locator(".reason").get_by_role("link", name="Log in").click()
    expect(page).to_have_url(server.url(f"/login?next=/drops/{drop['id']}"))
    page.goto(server.url("/notifications"))
    expect(page).to_have_url(server.url("/login?next=/notifications"))
