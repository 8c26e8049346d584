"""Shoppers outside the rollout see drops as posts, with a short line that says why."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

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


def test_android_shopper_sees_why_and_can_switch_app(limited: Server, android: object) -> None:
    server = limited
    brand = server.signup("fossil", display_name="Fossil")
    from tests.web.support import run_cli

    run_cli(server.database_url, "partner", "add", "fossil", "--shop-domain", "shop.example")
    drop = server.create_drop(brand, in_=timedelta(hours=5), title="Gen 9 Hybrid")

    page = android.new_page()  # type: ignore[attr-defined]
    sign_up(page, server, "lena")
    card = page.locator(f'[data-drop-id="{drop["id"]}"]')
    expect(card.get_by_role("heading")).to_have_text("Gen 9 Hybrid")
    expect(card.get_by_role("button", name="Remind me")).to_have_count(0)
    expect(card.locator(".reason")).to_have_text("Remind me is not yet available on android.")

    # The platform came from the browser; the profile can change it.
    page.get_by_role("link", name="Profile").click()
    expect(page.get_by_label("I use dropbell on")).to_have_value("android")
    page.get_by_label("I use dropbell on").select_option("ios")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_have_text("Saved.")
    page.get_by_role("link", name="Home", exact=True).click()
    expect(card.get_by_role("button", name="Remind me")).to_be_visible()
    expect(card.locator("time")).to_contain_text("CET")


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
