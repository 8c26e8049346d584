"""A brand on a laptop creates, reschedules and cancels a drop; a shopper's phone follows live."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.web.conftest import screenshot
from tests.web.support import Server, ShopSite, run_cli
from tests.web.test_shopper_journey import sign_up


def log_in(page: Page, server: Server, username: str) -> None:
    page.goto(server.url("/login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Drops", exact=True)).to_be_visible()


def test_brand_creates_reschedules_and_cancels(
    server: Server,
    shop: ShopSite,
    laptop: object,
    phone: object,
    devices: dict[str, dict[str, object]],
    database_url: str,
) -> None:
    server.signup("lego", display_name="LEGO", timezone="America/Chicago")
    run_cli(database_url, "partner", "add", "lego", "--shop-domain", shop.domain)
    brand = laptop.new_page()  # type: ignore[attr-defined]
    log_in(brand, server, "lego")
    brand.get_by_role("link", name="Console").click()
    brand.get_by_role("link", name="New drop").click()

    # Mistakes are shown beside their fields, and nothing is created.
    launch = (server.now() + timedelta(days=1)).astimezone()
    brand.get_by_label("Title").fill("")
    brand.get_by_label("Shop link").fill("http://elsewhere.example/x")
    brand.get_by_label("Hashtag").fill("not a tag!")
    brand.get_by_role("button", name="Announce drop").click()
    expect(brand.locator("#e-title")).to_have_text("Fill in the title.")
    expect(brand.locator("#e-launch_at")).to_have_text("Fill in the launch time.")
    expect(brand.locator("#e-tag")).to_contain_text("hashtag")
    expect(brand.get_by_label("Title")).to_have_attribute("aria-invalid", "true")

    # Fixed: the drop is announced.
    from zoneinfo import ZoneInfo

    local = (server.now() + timedelta(days=1)).astimezone(ZoneInfo("America/Chicago"))
    brand.get_by_label("Title").fill("Botanical Orchid Set")
    brand.get_by_label("Description", exact=True).fill("608 pieces of flowers that never wilt.")
    brand.get_by_label("Price").fill("49.99")
    brand.get_by_label("Launch time").fill(local.strftime("%Y-%m-%dT%H:%M"))
    brand.get_by_label("Shop link").fill(shop.url("/orchid"))
    brand.get_by_label("Hashtag").fill("LegoOrchid")
    brand.get_by_role("button", name="Announce drop").click()
    expect(brand.locator(".notice")).to_contain_text("Your drop is announced")
    expect(brand.get_by_role("heading", level=1)).to_have_text("Botanical Orchid Set")
    drop_url = brand.url
    drop_id = int(drop_url.rsplit("/", 1)[1].split("?")[0])
    del launch

    # A shopper finds it and sets a reminder.
    shopper = phone.new_page()  # type: ignore[attr-defined]
    sign_up(shopper, server, "jonas")
    shopper.goto(server.url(f"/drops/{drop_id}"))
    expect(shopper.get_by_role("heading", level=1)).to_have_text("Botanical Orchid Set")
    expect(shopper.locator(".price")).to_have_text("$49.99")
    shopper.get_by_role("button", name="Remind me").click()
    expect(shopper.get_by_role("button", name="Reminder set")).to_be_visible()

    # The brand moves the launch two days later: the shopper's page follows, live.
    brand.get_by_role("link", name=re.compile("Edit or reschedule")).click()
    later = local + timedelta(days=2)
    brand.get_by_label("Launch time").fill(later.strftime("%Y-%m-%dT%H:%M"))
    brand.get_by_role("button", name="Save changes").click()
    expect(brand.locator(".notice")).to_contain_text("Rescheduled")
    new_day = later.astimezone(ZoneInfo("America/New_York"))
    badge = shopper.locator("[data-unread-badge]").first
    expect(badge).to_contain_text("1")
    expect(shopper.locator(".drop-page time").first).to_contain_text(
        f"{new_day.strftime('%a')} {new_day.day} {new_day.strftime('%b')}"
    )

    # The funnel, at phone size too.
    expect(brand.locator("svg.funnel")).to_be_visible()
    expect(brand.locator(".funnel-legend")).to_contain_text("Reminded 1")
    phone_brand = laptop.browser.new_context(  # type: ignore[attr-defined]
        **devices["iphone"], ignore_https_errors=True
    )
    try:
        small = phone_brand.new_page()
        log_in(small, server, "lego")
        small.goto(drop_url.split("?")[0])
        expect(small.locator("svg.funnel")).to_be_visible()
        screenshot(small, "brand-console", database_url)
        small.goto(server.url("/console/drops/new"))
        small.get_by_role("button", name="Announce drop").click()
        screenshot(small, "brand-console-form-errors", database_url)
    finally:
        phone_brand.close()

    # The brand cancels: the shopper sees it at once.
    brand.once("dialog", lambda dialog: dialog.accept())
    brand.get_by_role("button", name="Cancel drop").click()
    expect(brand.locator(".notice")).to_contain_text("cancelled")
    expect(shopper.locator(".chip-cancelled")).to_be_visible()
    expect(shopper.get_by_role("button", name=re.compile("Remind"))).to_have_count(0)
    expect(badge).to_contain_text("2")
    shopper.get_by_role("link", name=re.compile("Notifications")).click()
    expect(shopper.locator(".notification").first).to_contain_text("was cancelled")
    expect(shopper.locator(".notification").nth(1)).to_contain_text("moved to")
