"""Polish: dark mode, an undone repost leaving the timeline at once, the console's status
labels at their own width, a drop image's alt text written by the brand, and cancelled
drops leaving the home feed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import screenshot
from tests.web.support import PASSWORD, Server, run_cli

ALT = "A quilted black leather bag on a gold chain"


@pytest.fixture
def dark_phone(browser: Any, devices: dict[str, dict[str, object]]) -> Iterator[Any]:
    context = browser.new_context(
        **devices["iphone"], color_scheme="dark", timezone_id="America/New_York"
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


def log_in(page: Page, server: Server, username: str) -> None:
    page.goto(server.url("/login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1).first).to_be_visible()


def brand(server: Server) -> str:
    token = server.signup("maison", display_name="Maison Aurelle")
    run_cli(server.database_url, "partner", "add", "maison", "--shop-domain", "shop.example")
    return token


def test_dark_mode_follows_the_device(
    server: Server, dark_phone: Any, phone: Any, database_url: str
) -> None:
    token = brand(server)
    server.create_drop(
        token, in_=timedelta(hours=2), title="Le Sac Matelassé", price="3900.00",
        currency="USD", image_url="/static/demo/bag.svg", tag="LeSac",
    )  # fmt: skip
    server.create_drop(
        token, in_=timedelta(days=3), title="Orchid Eau de Parfum", price="145.00",
        currency="USD", image_url="/static/demo/perfume.svg", tag="Orchid",
    )  # fmt: skip
    server.signup("maya", display_name="Maya Chen", timezone="America/New_York")
    page = dark_phone.new_page()
    log_in(page, server, "maya")
    background = "getComputedStyle(document.body).backgroundColor"
    assert page.evaluate(background) == "rgb(18, 16, 23)"
    card = page.locator("article.drop").first
    assert (
        page.evaluate("(el) => getComputedStyle(el).backgroundColor", card.element_handle())
        != "rgb(255, 255, 255)"
    )
    expect(page.locator("[data-tz-hint]")).to_be_hidden()
    page.evaluate("scrollTo(0, document.querySelector('[data-feed]').offsetTop - 72)")
    screenshot(page, "home-dark", database_url)

    light = phone.new_page()
    light.goto(server.url("/"))
    assert light.evaluate(background) == "rgb(246, 244, 241)"


def test_an_undone_repost_leaves_the_timeline_at_once(server: Server, phone: Any) -> None:
    maya = server.signup("maya", display_name="Maya Chen")
    r = server.api("POST", "/api/v1/posts", maya, json={"text": "Counting down to #LeSac"})
    assert r.status_code == 201, r.text
    post_id = r.json()["id"]
    server.signup("jordan", display_name="Jordan Ellis")
    page = phone.new_page()
    log_in(page, server, "jordan")
    original = page.locator(f'article.post[data-post-id="{post_id}"]:not([data-own-repost])')
    original.get_by_role("button", name=re.compile("^Repost")).click()
    expect(original.get_by_role("button", name=re.compile("^Repost"))).to_have_attribute(
        "aria-pressed", "true"
    )
    page.reload()
    mine = page.locator("article[data-own-repost]")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("Jordan Ellis reposted")
    page.evaluate("window.__same_page = true")

    # Undone from the repost entry itself: the entry goes, focus lands on the original's.
    mine.get_by_role("button", name=re.compile("^Repost")).click()
    expect(mine).to_have_count(0)
    button = original.get_by_role("button", name=re.compile("^Repost"))
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(button).to_be_focused()
    assert page.evaluate("window.__same_page") is True
    assert server.http.get(f"/api/v1/posts/{post_id}").json()["repost_count"] == 0


def test_console_status_labels_keep_their_own_width(server: Server, phone: Any) -> None:
    token = brand(server)
    for title, tag in (("Le Sac Matelassé", "LeSac"), ("Orchid Eau de Parfum", "Orchid")):
        server.create_drop(token, in_=timedelta(hours=2), title=title, tag=tag)
    page = phone.new_page()
    log_in(page, server, "maison")
    page.goto(server.url("/console"))
    items = page.locator(".console-link")
    expect(items).to_have_count(2)
    for i in range(2):
        link = items.nth(i).bounding_box()
        chip = items.nth(i).locator(".chip").bounding_box()
        assert link and chip
        assert chip["width"] < link["width"] / 3, (chip, link)
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def test_the_brand_writes_the_image_s_alt_text_and_it_is_shown(
    server: Server, laptop: Any, phone: Any
) -> None:
    brand(server)
    page = laptop.new_page()
    log_in(page, server, "maison")
    page.goto(server.url("/console/drops/new"))
    launch = (server.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Title").fill("Le Sac Matelassé")
    page.get_by_label("Launch time").fill(launch)
    page.get_by_label("Shop link").fill("https://shop.example/sac")
    page.get_by_label("Hashtag").fill("LeSac")
    page.get_by_label("Image link (optional)").fill("https://cdn.shop.example/sac.jpg")
    page.get_by_label("Image description").fill(ALT)
    page.get_by_role("button", name="Announce drop").click()
    expect(page.locator(".notice")).to_contain_text("Your drop is announced")
    drop = server.http.get("/api/v1/drops").json()[0]
    assert drop["image_alt"] == ALT
    page.goto(server.url(f"/console/drops/{drop['id']}/edit"))
    expect(page.get_by_label("Image description")).to_have_value(ALT)

    server.signup("maya")
    shopper = phone.new_page()
    log_in(shopper, server, "maya")
    expect(shopper.locator(f'[data-drop-id="{drop["id"]}"] img')).to_have_attribute("alt", ALT)
    expect(shopper.get_by_role("img", name=ALT).first).to_be_attached()
    shopper.goto(server.url(f"/drops/{drop['id']}"))
    expect(shopper.locator(".drop-page img")).to_have_attribute("alt", ALT)
    shopper.get_by_role("button", name="Remind me").click()
    expect(shopper.get_by_role("button", name="Reminder set")).to_be_visible()
    shopper.goto(server.url("/reminders"))
    expect(shopper.locator(".reminder-row img")).to_have_attribute("alt", ALT)


def test_a_cancelled_drop_leaves_the_home_feed(server: Server, phone: Any) -> None:
    token = brand(server)
    kept = server.create_drop(token, in_=timedelta(hours=3), title="Orchid Eau de Parfum")
    gone = server.create_drop(token, in_=timedelta(hours=2), title="Le Sac Matelassé")
    page = phone.new_page()
    page.goto(server.url("/"))
    feed = page.locator("[data-feed] > article")
    expect(feed.first).to_contain_text("Le Sac Matelassé")

    assert server.api("POST", f"/api/v1/drops/{gone['id']}/cancel", token).status_code == 200
    page.reload()
    expect(page.locator(f'[data-drop-id="{gone["id"]}"]')).to_have_count(0)
    expect(feed.first).to_contain_text("Orchid Eau de Parfum")
    expect(page.locator(f'[data-drop-id="{kept["id"]}"]')).to_be_visible()
    # Its own page still says what happened.
    page.goto(server.url(f"/drops/{gone['id']}"))
    expect(page.locator(".chip-cancelled")).to_be_visible()
