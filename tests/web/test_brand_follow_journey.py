"""A shopper opens a brand's page from a drop card, follows it, and hears of its next drop
in Notifications; Follow works without JavaScript too."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from dropbell.web.render import local_time
from tests.web.conftest import screenshot
from tests.web.support import Server, run_cli
from tests.web.test_shopper_journey import sign_up

TZ = "America/New_York"  # the phone's zone, which sign-up picks up


def brand(server: Server) -> str:
    token = server.signup("aurelle", display_name="Maison Aurelle")
    run_cli(
        server.database_url,
        "partner",
        "add",
        "aurelle",
        "--shop-domain",
        "shop.example",
        "--shop-domain",
        "aurelle.example",
    )
    return token


def test_follow_a_brand_from_its_page_and_hear_of_its_next_drop(
    server: Server, phone: Any, database_url: str
) -> None:
    token = brand(server)
    earlier = server.create_drop(
        token, in_=timedelta(minutes=5), title="Le Carré de Soie", image_url="/static/demo/bag.svg"
    )
    server.set_clock(server.now() + timedelta(minutes=10))  # launched: an earlier drop
    upcoming = server.create_drop(
        token,
        in_=timedelta(days=2),
        title="Eau de Nuit",
        price="260.00",
        currency="USD",
        image_url="/static/demo/perfume.svg",
    )
    # The server's clock stands still unless moved: maya comes after the announcement.
    server.set_clock(server.now() + timedelta(seconds=1))
    page = phone.new_page()
    sign_up(page, server, "maya")

    # From a drop card, the brand's name leads to its page.
    card = page.locator(f'article[data-drop-id="{upcoming["id"]}"]').first
    card.get_by_role("link", name="Maison Aurelle").click()
    expect(page).to_have_url(server.url("/@aurelle"))
    head = page.locator(".brand-head")
    expect(head.get_by_role("heading", name=re.compile("^Maison Aurelle"))).to_be_visible()
    expect(head).to_contain_text("verified partner brand")
    expect(head).to_contain_text("aurelle.example")
    expect(head).to_contain_text("shop.example")
    expect(head).to_contain_text("0 followers")
    upcoming_list = page.locator('section[aria-labelledby="brand-upcoming"]')
    expect(upcoming_list.locator("article")).to_have_count(1)
    expect(upcoming_list).to_contain_text("Eau de Nuit")
    expect(page.locator('section[aria-labelledby="brand-past"]')).to_contain_text(earlier["title"])

    follow = head.get_by_role("button", name="Follow")
    expect(follow).to_have_attribute("aria-pressed", "false")
    follow.click()
    following = head.get_by_role("button", name="Following")
    expect(following).to_have_attribute("aria-pressed", "true")
    expect(head).to_contain_text("1 follower")
    expect(page).to_have_url(server.url("/@aurelle"))
    screenshot(page, "brand-page", database_url)

    # The brand announces its next drop: one notice in the follower's inbox.
    nxt = server.create_drop(token, in_=timedelta(days=3), title="Le Sac Matelassé")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Notifications").click()
    rows = page.locator("[data-notification-list] .notification")
    expect(rows).to_have_count(1)
    when = local_time(datetime.fromisoformat(nxt["launch_at"]), TZ)
    said = (
        r"Maison Aurelle \(verified partner brand\)\s*"
        rf"announced Le Sac Matelassé — launches {re.escape(when)}\."
    )
    expect(rows.first).to_contain_text(re.compile(said))
    expect(rows.first).to_have_class(re.compile("is-unread"))
    rows.first.get_by_role("button").click()
    expect(page).to_have_url(re.compile(rf"/drops/{nxt['id']}\?via=notification$"))
    expect(page.get_by_role("heading", name="Le Sac Matelassé")).to_be_visible()

    # Unfollow: the brand's later drops tell nothing; what came stays.
    server.set_clock(server.now() + timedelta(seconds=1))
    page.goto(server.url("/@aurelle"))
    page.locator(".brand-head").get_by_role("button", name="Following").click()
    expect(page.locator(".brand-head").get_by_role("button", name="Follow")).to_be_visible()
    server.set_clock(server.now() + timedelta(seconds=1))
    server.create_drop(token, in_=timedelta(days=4), title="Not for maya")
    page.goto(server.url("/notifications"))
    expect(rows).to_have_count(1)
    expect(page.locator("main")).not_to_contain_text("Not for maya")


def test_follow_works_without_javascript(
    server: Server, browser: Any, devices: dict[str, Any]
) -> None:
    brand(server)
    server.signup("noah")
    context = browser.new_context(**devices["iphone"], timezone_id=TZ, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(server.url("/login?next=/@aurelle"))
        page.get_by_label("Username").fill("noah")
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(server.url("/@aurelle"))
        page.get_by_role("button", name="Follow").click()
        expect(page.get_by_role("button", name="Following")).to_be_visible()
        r = server.http.get("/api/v1/accounts/aurelle")
        assert r.json()["followers_count"] == 1
    finally:
        context.close()
