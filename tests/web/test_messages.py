"""What a person reads when something is wrong: a sentence about what to do, in the app's
look, never a validator's pattern or the API's JSON."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web.support import Server

USERNAME_RULE = (
    "Choose a username of 3 to 30 letters (a to z), digits or underscores (_), with no spaces."
)


def test_the_sign_up_says_what_a_username_may_be(server: Server, phone: object) -> None:
    page = phone.new_page()  # type: ignore[attr-defined]
    page.goto(server.url("/signup"))
    page.get_by_label("Username").fill("maya chen!")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#e-username")).to_have_text(USERNAME_RULE)
    expect(page.get_by_label("Username")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("main")).not_to_contain_text("pattern")

    page.get_by_label("Username").fill("maya_chen")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Drops", exact=True)).to_be_visible()


def test_a_wrong_link_is_a_page_in_the_app_s_look(server: Server, phone: object) -> None:
    page = phone.new_page()  # type: ignore[attr-defined]
    for path in ("/nope", "/static/nope.css", "/drops/abc"):
        response = page.goto(server.url(path))
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
        expect(page.locator(".error-panel")).to_contain_text("We can't find that page.")
        expect(page.locator("body")).not_to_contain_text('"error"')
    page.goto(server.url("/?max_id=abc"))
    expect(page.locator(".error-panel")).to_contain_text("This link is not right.")
    page.get_by_role("link", name="Back to drops").click()
    expect(page).to_have_url(server.url("/"))
