"""Posts on the web: compose (errors beside the field), like / repost / bookmark / share
without a reload, the author's live badge, the tag page under the drop, bookmarks."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.web.conftest import screenshot
from tests.web.support import PASSWORD, Server, ShopSite, run_cli
from tests.web.test_shopper_journey import sign_up

TEXT = "Counting down to #UnionJ4 — who else set a reminder? Desert Moss in a 10, please."


def log_in(page: Page, server: Server, username: str) -> None:
    page.goto(server.url("/login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Drops", exact=True)).to_be_visible()


def test_compose_like_repost_badge_tag_and_bookmarks(
    server: Server,
    shop: ShopSite,
    browser: object,
    devices: dict[str, dict[str, object]],
    phone: object,
    database_url: str,
) -> None:
    brand = server.signup("unionla", display_name="Union Los Angeles")
    run_cli(database_url, "partner", "add", "unionla", "--shop-domain", shop.domain)
    drop = server.create_drop(
        brand,
        in_=timedelta(hours=2),
        title="Union x Jordan 4 “Desert Moss”",
        price="225.00",
        currency="USD",
        tag="UnionJ4",
        shop_url=shop.url("/products/jordan-4-desert-moss"),
        image_url="/static/demo/sneaker.svg",
    )

    # The author composes; empty and too long posts are refused beside the field.
    author = phone.new_page()  # type: ignore[attr-defined]
    sign_up(author, server, "maya")
    box = author.get_by_label("Say something about a drop")
    author.get_by_role("button", name="Post", exact=True).click()
    expect(author.locator("#e-text")).to_have_text("A post needs some text.")
    expect(author.get_by_label("New post")).to_have_attribute("aria-invalid", "true")
    author.get_by_label("New post").fill("x" * 501)
    expect(author.locator("#c-text")).to_contain_text("501/500")
    author.get_by_role("button", name="Post", exact=True).click()
    expect(author.locator("#e-text")).to_have_text(
        "The post can be at most 500 characters; shorten it."
    )
    author.get_by_label("New post").fill(TEXT)
    author.get_by_role("button", name="Post", exact=True).click()
    expect(author).to_have_url(server.url("/"))
    mine = author.locator("article.post", has_text="Counting down").first
    expect(mine.get_by_role("link", name="#UnionJ4")).to_have_attribute("href", "/tags/unionj4")
    expect(box).to_have_value("")
    badge = author.locator("[data-unread-badge]").first
    expect(badge).to_be_hidden()

    # Another shopper likes, reposts, bookmarks and shares it, without a reload.
    other = browser.new_context(  # type: ignore[attr-defined]
        **devices["iphone"], ignore_https_errors=True, timezone_id="America/Chicago"
    )
    other.set_default_timeout(15_000)
    other.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base)
    server.signup("jordan", display_name="Jordan Ellis")
    page = other.new_page()
    log_in(page, server, "jordan")
    page.evaluate("window.__same_page = true")
    post = page.locator("article.post", has_text="Counting down").first
    like = post.get_by_role("button", name=re.compile("^Like"))
    expect(like).to_have_attribute("aria-pressed", "false")
    like.click()
    like = post.get_by_role("button", name=re.compile("^Like"))
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like).to_be_focused()
    expect(like).to_contain_text("1")

    # The author's badge follows, live.
    expect(badge).to_be_visible()
    expect(badge).to_contain_text("1")

    repost = post.get_by_role("button", name=re.compile("^Repost"))
    repost.click()
    expect(post.get_by_role("button", name=re.compile("^Repost"))).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(badge).to_contain_text("2")
    expect(author.locator("[data-toasts]")).to_contain_text("Jordan Ellis reposted your post")

    post.get_by_role("button", name=re.compile("^Bookmark")).click()
    expect(post.get_by_role("button", name=re.compile("^Bookmark"))).to_have_attribute(
        "aria-pressed", "true"
    )
    post.get_by_role("button", name=re.compile("^Share")).click()
    expect(page.locator("[data-toasts]")).to_contain_text("Link copied")
    share = post.get_by_role("button", name=re.compile("^Share"))
    expect(share).to_contain_text("1")
    expect(share).to_be_focused()
    post_id = post.get_attribute("data-post-id")
    assert page.evaluate("navigator.clipboard.readText()") == server.url(f"/posts/{post_id}")
    assert page.evaluate("window.__same_page") is True

    counts = server.api("GET", f"/api/v1/posts/{post_id}", server.token("maya")).json()
    assert (counts["like_count"], counts["repost_count"]) == (1, 1)
    assert (counts["bookmark_count"], counts["share_count"]) == (1, 1)

    # The timeline after a reload: the repost is the newest entry, above the drop card.
    r = server.api(
        "POST",
        "/api/v1/posts",
        server.token("jordan"),
        json={"text": "Size advice for #UnionJ4? I'm between a 10 and a 10.5."},
    )
    assert r.status_code == 201, r.text
    page.reload()
    first = page.locator("[data-feed] > article").nth(1)
    expect(first).to_contain_text("Jordan Ellis reposted")
    expect(page.locator(f'[data-drop-id="{drop["id"]}"]')).to_be_visible()
    page.evaluate("scrollTo(0, document.querySelector('[data-feed]').offsetTop - 72)")
    screenshot(page, "timeline", database_url)

    # The hashtag opens the tag page: the drop's card (Remind me) and the post under it.
    first.get_by_role("link", name="#UnionJ4").click()
    expect(page).to_have_url(server.url("/tags/unionj4"))
    expect(page.get_by_role("heading", level=1)).to_have_text("unionj4")
    card = page.locator(f'[data-drop-id="{drop["id"]}"]')
    expect(card.get_by_role("button", name="Remind me")).to_be_visible()
    expect(page.locator("article.post", has_text="Counting down")).to_have_count(1)
    expect(page.locator("article.post", has_text="Size advice")).to_have_count(1)
    card.get_by_role("button", name="Remind me").click()
    expect(card.get_by_role("button", name="Reminder set")).to_be_focused()
    page.evaluate("scrollTo(0, document.querySelector('.drop-body').offsetTop + 300)")
    page.mouse.move(0, 0)  # no hover highlight in the picture
    screenshot(page, "tag", database_url)

    # The drop's page lists it too; so does the shopper's Bookmarks page.
    page.goto(server.url(f"/drops/{drop['id']}"))
    expect(page.locator("article.post", has_text="Counting down")).to_be_visible()
    page.get_by_role("link", name="Bookmarks").click()
    expect(page).to_have_url(server.url("/bookmarks"))
    saved = page.locator("article.post", has_text="Counting down")
    expect(saved).to_have_count(1)
    saved.get_by_role("button", name=re.compile("^Bookmark")).click()
    expect(saved.get_by_role("button", name=re.compile("^Bookmark"))).to_have_attribute(
        "aria-pressed", "false"
    )

    # The author opens the like notification: it leads to the post.
    author.get_by_role("link", name=re.compile("Notifications")).click()
    author.locator(".notification", has_text="liked your post").get_by_role("button").click()
    expect(author).to_have_url(server.url(f"/posts/{post_id}"))
    other.close()


def test_visitor_sees_posts_and_is_asked_to_log_in(server: Server, phone: object) -> None:
    maya = server.signup("maya")
    text = "Hello #Launch <b>not bold</b> <script>alert(1)</script>"
    r = server.api("POST", "/api/v1/posts", maya, json={"text": text})
    assert r.status_code == 201, r.text
    page = phone.new_page()  # type: ignore[attr-defined]
    page.goto(server.url("/tags/launch"))
    post = page.locator("article.post", has_text="Hello")
    expect(post.locator(".post-text")).to_have_text(text)  # escaped, never HTML
    expect(post.locator("b, script")).to_have_count(0)
    expect(post.get_by_role("link", name="#Launch")).to_have_attribute("href", "/tags/launch")
    post.get_by_role("link", name=re.compile("^Like")).click()
    expect(page).to_have_url(re.compile(r"/login\?next=/tags/launch"))
    page.goto(server.url("/bookmarks"))
    expect(page).to_have_url(re.compile(r"/login\?next=/bookmarks"))
    page.goto(server.url("/tags/no-such"))
    expect(page.get_by_role("heading", name="That didn't work")).to_be_visible()
