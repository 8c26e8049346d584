"""A shopper on an iPhone: sign up, Remind me, the live badge, the notification, Shop on website."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.web.conftest import screenshot
from tests.web.support import Server, ShopSite, run_cli


def sign_up(page: Page, server: Server, username: str) -> None:
    page.goto(server.url("/"))
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_label("Country").select_option("US")
    page.get_by_role("main").get_by_label("Language").select_option("en")  # not the switcher
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Drops", exact=True)).to_be_visible()


def test_remind_badge_notification_and_shop(
    server: Server, shop: ShopSite, phone: object, database_url: str
) -> None:
    brand = server.signup("unionla", display_name="Union Los Angeles")
    run_cli(database_url, "partner", "add", "unionla", "--shop-domain", shop.domain)
    launch = server.now() + timedelta(hours=2)
    drop = server.create_drop(
        brand,
        in_=launch - server.now(),
        title="Union x Jordan 4 “Desert Moss”",
        description="A 1-of-1 colourway, 300 pairs worldwide.",
        price="225.00",
        currency="USD",
        tag="unionj4",
        shop_url=shop.url("/products/jordan-4-desert-moss"),
        image_url="/static/demo/sneaker.svg",
    )

    page = phone.new_page()  # type: ignore[attr-defined]
    page.on("console", lambda m: print("console:", m.type, m.text))
    page.on("requestfailed", lambda r: print("failed:", r.url, r.failure))
    sign_up(page, server, "maya")
    card = page.locator(f'[data-drop-id="{drop["id"]}"]')
    expect(card.get_by_role("heading")).to_have_text(re.compile("Desert Moss"))
    expect(card).to_contain_text("$225")
    expect(card.locator("[data-countdown]")).to_have_text(re.compile(r"Starts in (1h 59m|2h 00m)"))
    screenshot(page, "home", database_url)

    # Remind me, without a reload.
    page.evaluate("window.__same_page = true")
    card.get_by_role("button", name="Remind me").click()
    reminded = page.locator(f'[data-drop-id="{drop["id"]}"]').get_by_role(
        "button", name="Reminder set"
    )
    expect(reminded).to_have_attribute("aria-pressed", "true")
    expect(reminded).to_be_focused()
    assert page.evaluate("window.__same_page") is True

    # The drop's page, before the launch.
    page.get_by_role("link", name=re.compile("Desert Moss")).first.click()
    # The card's link says where the visit came from (the brand's figures by source).
    drop_page = re.escape(server.url(f"/drops/{drop['id']}"))
    expect(page).to_have_url(re.compile(drop_page + r"\?via=\w+$"))
    expect(page.get_by_role("button", name="Reminder set")).to_be_visible()
    expect(page.get_by_role("link", name="Add to calendar")).to_have_attribute(
        "href", f"/api/v1/drops/{drop['id']}/calendar.ics"
    )
    expect(page.get_by_role("link", name="Shop on website")).to_have_count(0)
    page.get_by_role("button", name="Reminder set").scroll_into_view_if_needed()
    screenshot(page, "drop-before-launch", database_url)

    # 15 minutes before: the badge appears without a reload.
    badge = page.locator("[data-unread-badge]").first
    expect(badge).to_be_hidden()
    page.evaluate("window.__same_page = 'still'")
    server.set_clock(launch - timedelta(minutes=15))
    expect(badge).to_be_visible()
    expect(badge).to_contain_text("1")
    expect(page.locator("[data-toasts]")).to_contain_text("starts soon")
    assert page.evaluate("window.__same_page") == "still"

    # The notification: opening it marks it read and opens its drop.
    page.get_by_role("link", name=re.compile("Notifications")).click()
    item = page.locator(".notification").first
    expect(item).to_contain_text("starts in 15 minutes")
    screenshot(page, "notifications", database_url)
    item.get_by_role("button").click()
    expect(page).to_have_url(server.url(f"/drops/{drop['id']}?via=notification"))
    expect(page.locator("[data-unread-badge]").first).to_be_hidden()

    # The launch: the page turns live by itself, and Shop on website goes to the brand.
    server.set_clock(launch)
    shop_link = page.get_by_role("link", name="Shop on website")
    expect(shop_link).to_be_visible()
    expect(page.locator(".chip-live")).to_be_visible()
    shop_link.scroll_into_view_if_needed()
    screenshot(page, "drop-live", database_url)
    shop_link.click()
    expect(page.get_by_role("heading", name="Brand shop")).to_be_visible()
    assert page.url == shop.url("/products/jordan-4-desert-moss")

    stats = server.api("GET", f"/api/v1/drops/{drop['id']}/stats", brand).json()
    assert stats["reminders"] == 1
    assert stats["notified_soon"] == 1
    assert stats["notified_live"] == 1
    assert stats["opened"] == 1
    assert stats["shop_clicks"]["notification"] == 1
