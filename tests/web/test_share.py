"""Share: the device's share sheet (``navigator.share``) where there is one, else the link
is copied; a closed share sheet shares nothing."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.web.support import Server

# Chromium on Linux has no share sheet; a phone's is stood in for by this one, which
# records what it was given (or is closed by the shopper: an AbortError).
SHARE_SHEET = """
Object.defineProperty(Navigator.prototype, "share", {
  configurable: true,
  value: async function (data) {
    if (window.__closeSheet) throw new DOMException("Share canceled", "AbortError");
    (window.__shared = window.__shared || []).push(data);
  },
});
"""
NO_SHARE_SHEET = "delete Navigator.prototype.share;"


def _post(server: Server) -> int:
    maya = server.signup("maya")
    r = server.api("POST", "/api/v1/posts", maya, json={"text": "Who else is up for #Launch?"})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _shares(server: Server, post_id: int) -> int:
    return int(server.http.get(f"/api/v1/posts/{post_id}").json()["share_count"])


def test_share_opens_the_share_sheet_where_there_is_one(server: Server, phone: Any) -> None:
    post_id = _post(server)
    phone.add_init_script(SHARE_SHEET)
    page = phone.new_page()
    page.goto(server.url("/tags/launch"))
    post = page.locator("article.post", has_text="Who else")

    # Closing the sheet shares nothing.
    page.evaluate("window.__closeSheet = true")
    post.get_by_role("button", name=re.compile("^Share")).click()
    page.wait_for_timeout(500)
    assert _shares(server, post_id) == 0
    expect(page.locator("[data-toasts]")).not_to_contain_text("Link copied")

    page.evaluate("window.__closeSheet = false")
    post.get_by_role("button", name=re.compile("^Share")).click()
    share = post.get_by_role("button", name=re.compile("^Share"))
    expect(share).to_contain_text("1")
    expect(share).to_be_focused()
    shared = page.evaluate("window.__shared")
    assert [s["url"] for s in shared] == [server.url(f"/posts/{post_id}")]
    expect(page.locator("[data-toasts]")).not_to_contain_text("Link copied")
    assert _shares(server, post_id) == 1


def test_share_copies_the_link_without_a_share_sheet(server: Server, laptop: Any) -> None:
    post_id = _post(server)
    laptop.add_init_script(NO_SHARE_SHEET)
    laptop.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base)
    page = laptop.new_page()
    page.goto(server.url("/tags/launch"))
    assert page.evaluate("typeof navigator.share") == "undefined"
    post = page.locator("article.post", has_text="Who else")
    post.get_by_role("button", name=re.compile("^Share")).click()
    expect(page.locator("[data-toasts]")).to_contain_text("Link copied")
    expect(post.get_by_role("button", name=re.compile("^Share"))).to_contain_text("1")
    assert page.evaluate("navigator.clipboard.readText()") == server.url(f"/posts/{post_id}")
    assert _shares(server, post_id) == 1
