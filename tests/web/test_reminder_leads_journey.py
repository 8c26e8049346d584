"""A shopper chooses when to be told: the drop page's lead chips, My reminders, changing the
choice, Undo; with and without JavaScript; a lead off the menu is refused."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from dropbell.web.render import lead_text, leads_phrase, local_time, starts_in
from tests.web.conftest import screenshot
from tests.web.support import Server, run_cli
from tests.web.test_shopper_journey import sign_up

TZ = "America/New_York"  # the phone's zone, which sign-up picks up


def offsets(server: Server, token: str, drop_id: int) -> list[int] | None:
    r = server.api("GET", f"/api/v1/drops/{drop_id}", token)
    assert r.status_code == 200, r.text
    found = r.json()["reminder_offsets"]
    return None if found is None else sorted(found, reverse=True)


def brand_with_drops(server: Server) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A brand with a drop in two days (every lead still ahead) and one in 40 minutes (a day
    and an hour before have passed)."""
    brand = server.signup("aurelle", display_name="Maison Aurelle")
    run_cli(server.database_url, "partner", "add", "aurelle", "--shop-domain", "shop.example")
    later = server.create_drop(
        brand,
        in_=timedelta(days=2),
        title="Eau de Nuit, édition limitée",
        price="260.00",
        currency="USD",
        image_url="/static/demo/perfume.svg",
    )
    soon = server.create_drop(
        brand,
        in_=timedelta(minutes=40),
        title="Le Sac Matelassé",
        price="3900.00",
        currency="USD",
        image_url="/static/demo/bag.svg",
    )
    return brand, later, soon


def chip(page: Page, label: str) -> Any:
    return page.locator(".leads").get_by_role("checkbox", name=label)


def launch_text(drop: dict[str, Any]) -> str:
    return local_time(datetime.fromisoformat(drop["launch_at"]), TZ)


def test_choose_leads_see_them_in_my_reminders_change_and_undo(
    server: Server, phone: Any, database_url: str
) -> None:
    brand, later, soon = brand_with_drops(server)
    page = phone.new_page()
    page.on("console", lambda m: print("console:", m.type, m.text))
    sign_up(page, server, "maya")
    token = server.token("maya")

    # A new reminder starts from the default lead (15 minutes before).
    page.goto(server.url(f"/drops/{later['id']}"))
    expect(page.locator(".leads legend")).to_have_text("When should we tell you?")
    expect(chip(page, "15 minutes before")).to_be_checked()
    expect(chip(page, "1 hour before")).not_to_be_checked()
    expect(chip(page, "1 day before")).not_to_be_checked()
    expect(page.locator(".leads")).to_contain_text("You'll also be told when it launches.")

    # Pick a day and an hour before, and Remind me: the card comes back without a reload.
    page.evaluate("window.__same_page = true")
    chip(page, "1 hour before").check()
    chip(page, "1 day before").check()
    chip(page, "15 minutes before").uncheck()
    page.get_by_role("button", name="Remind me").click()
    reminded = page.get_by_role("button", name="Reminder set")
    expect(reminded).to_have_attribute("aria-pressed", "true")
    expect(reminded).to_be_focused()
    assert page.evaluate("window.__same_page") is True
    expect(chip(page, "1 day before")).to_be_checked()
    expect(chip(page, "1 hour before")).to_be_checked()
    expect(chip(page, "15 minutes before")).not_to_be_checked()
    assert offsets(server, token, later["id"]) == [86400, 3600]

    # After a reload the choice is still ticked.
    page.reload()
    expect(chip(page, "1 day before")).to_be_checked()
    expect(chip(page, "1 hour before")).to_be_checked()
    expect(chip(page, "15 minutes before")).not_to_be_checked()
    page.locator(".leads").scroll_into_view_if_needed()
    screenshot(page, "drop-leads", database_url)

    # The drop in 40 minutes: a day and an hour before have passed.
    page.goto(server.url(f"/drops/{soon['id']}"))
    expect(chip(page, "1 day before")).to_be_disabled()
    expect(chip(page, "1 hour before")).to_be_disabled()
    expect(chip(page, "1 hour before")).not_to_be_checked()
    expect(page.locator(".leads")).to_contain_text("1 hour before (already passed)")
    expect(chip(page, "15 minutes before")).to_be_enabled()
    expect(chip(page, "15 minutes before")).to_be_checked()
    page.get_by_role("button", name="Remind me").click()
    expect(page.get_by_role("button", name="Reminder set")).to_be_visible()
    assert offsets(server, token, soon["id"]) == [900]

    # A cancelled drop is not among what is to come.
    gone = server.create_drop(brand, in_=timedelta(hours=5), title="Called off")
    assert server.api("POST", f"/api/v1/drops/{gone['id']}/remind", token).status_code == 200
    assert server.api("POST", f"/api/v1/drops/{gone['id']}/cancel", brand).status_code == 200

    # My reminders, from the tab bar: soonest launch first, with the chosen leads.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reminders").click()
    expect(page).to_have_url(server.url("/reminders"))
    expect(page.get_by_role("heading", name="My reminders")).to_be_visible()
    rows = page.locator("[data-reminder-row]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Le Sac Matelassé")
    expect(rows.nth(0)).to_contain_text("15 minutes before, and at launch")
    expect(rows.nth(1)).to_contain_text("Eau de Nuit, édition limitée")
    expect(rows.nth(1)).to_contain_text("1 day and 1 hour before, and at launch")
    expect(rows.nth(1).locator("time")).to_have_text(launch_text(later))
    expect(page.locator("main")).not_to_contain_text("Called off")
    screenshot(page, "my-reminders", database_url)

    # Change: the drop's page; now a day and 15 minutes before.
    rows.nth(1).get_by_role("link", name=re.compile("^Change")).click()
    expect(page).to_have_url(re.compile(rf"/drops/{later['id']}#drop-{later['id']}-page-leads$"))
    chip(page, "1 hour before").uncheck()
    chip(page, "15 minutes before").check()
    page.get_by_role("button", name="Save times").click()
    expect(page.get_by_role("button", name="Save times")).to_be_focused()
    expect(chip(page, "15 minutes before")).to_be_checked()
    expect(chip(page, "1 hour before")).not_to_be_checked()
    # The chips are checked in the page before the save's answer: wait for the server.
    for _ in range(100):
        if offsets(server, token, later["id"]) == [86400, 900]:
            break
        page.wait_for_timeout(50)
    assert offsets(server, token, later["id"]) == [86400, 900]
    page.get_by_role("link", name="My reminders").click()
    row = page.locator(f'[data-reminder-row="{later["id"]}"]')
    expect(row).to_contain_text("1 day and 15 minutes before, and at launch")

    # Undo from My reminders: the row goes, without a reload.
    page.evaluate("window.__same_page = 'still'")
    row.get_by_role("button", name="Undo the reminder for Eau de Nuit").click()
    expect(row).to_have_count(0)
    expect(page.locator("[data-toasts]")).to_contain_text("Reminder removed")
    assert page.evaluate("window.__same_page") == "still"
    assert offsets(server, token, later["id"]) is None
    expect(page.locator("[data-reminder-row]")).to_have_count(1)

    # The drop's page offers Remind me again, from the default lead.
    page.goto(server.url(f"/drops/{later['id']}"))
    expect(page.get_by_role("button", name="Remind me")).to_be_visible()
    expect(chip(page, "15 minutes before")).to_be_checked()
    expect(chip(page, "1 day before")).not_to_be_checked()

    # The last one undone: the empty state points to the drops.
    page.goto(server.url("/reminders"))
    page.get_by_role("button", name="Undo the reminder for Le Sac").click()
    empty = page.locator("[data-reminders-empty]")
    expect(empty).to_be_visible()
    expect(empty).to_contain_text("No reminders coming up.")
    empty.get_by_role("link", name="Browse drops").click()
    expect(page).to_have_url(server.url("/"))


@pytest.fixture
def phone_without_js(browser: Any, devices: dict[str, dict[str, object]]) -> Iterator[Any]:
    context = browser.new_context(**devices["iphone"], timezone_id=TZ, java_script_enabled=False)
    context.set_default_timeout(15_000)
    yield context
    context.close()


def test_leads_and_undo_without_javascript(
    server: Server, phone_without_js: BrowserContext
) -> None:
    _, later, _ = brand_with_drops(server)
    server.signup("maya", timezone=TZ)
    token = server.token("maya")
    page = phone_without_js.new_page()
    page.goto(server.url("/login"))
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()

    # Plain form posts: Remind me with a day before, then a change to an hour before.
    page.goto(server.url(f"/drops/{later['id']}"))
    chip(page, "1 day before").check()
    page.get_by_role("button", name="Remind me").click()
    expect(page).to_have_url(server.url(f"/drops/{later['id']}"))
    expect(page.get_by_role("button", name="Reminder set")).to_be_visible()
    expect(chip(page, "1 day before")).to_be_checked()
    expect(chip(page, "15 minutes before")).to_be_checked()
    assert offsets(server, token, later["id"]) == [86400, 900]

    chip(page, "1 day before").uncheck()
    chip(page, "15 minutes before").uncheck()
    chip(page, "1 hour before").check()
    page.get_by_role("button", name="Save times").click()
    expect(chip(page, "1 hour before")).to_be_checked()
    assert offsets(server, token, later["id"]) == [3600]

    # None ticked: the launch notice alone.
    chip(page, "1 hour before").uncheck()
    page.get_by_role("button", name="Save times").click()
    expect(chip(page, "1 hour before")).not_to_be_checked()
    assert offsets(server, token, later["id"]) == []

    # My reminders lists it; Undo posts and comes back to the page.
    page.goto(server.url("/reminders"))
    row = page.locator(f'[data-reminder-row="{later["id"]}"]')
    expect(row).to_contain_text("At launch")
    row.get_by_role("button", name=re.compile("^Undo")).click()
    expect(page).to_have_url(server.url("/reminders"))
    expect(page.locator("[data-reminders-empty]")).to_be_visible()
    assert offsets(server, token, later["id"]) is None


def test_web_remind_refuses_a_lead_off_the_menu(server: Server, phone: Any) -> None:
    _, later, _ = brand_with_drops(server)
    page = phone.new_page()
    sign_up(page, server, "maya")
    token = server.token("maya")
    assert (
        server.api(
            "POST", f"/api/v1/drops/{later['id']}/remind", token, json={"offsets": [3600]}
        ).status_code
        == 200
    )
    csrf = next(c["value"] for c in phone.cookies() if c["name"] == "dropbell_csrf")
    url = server.url(f"/drops/{later['id']}/remind")
    body = f"csrf_token={csrf}&leads=1&offsets=86400&offsets=42&variant=page&source=drop"
    form = {"Content-Type": "application/x-www-form-urlencoded", "Origin": server.base}

    # A plain form post: the error page says what may be chosen.
    r = page.request.post(url, data=body, headers=form, max_redirects=0)
    assert r.status == 422
    assert (
        "That is not a reminder time you can choose: pick 1 day, 1 hour or 15 minutes before "
        "the launch." in r.text()
    )

    # The script's fetch: the API's JSON error.
    r = page.request.post(url, data=body, headers={**form, "X-Fragment": "1"})
    assert r.status == 422
    assert r.json()["code"] == "invalid_offset"
    assert "pick 1 day, 1 hour or 15 minutes before" in r.json()["error"]

    # Not a number at all, and too many: refused the same way.
    for bad in ("offsets=soon", "&".join(["offsets=900"] * 11)):
        r = page.request.post(
            url, data=f"csrf_token={csrf}&leads=1&{bad}", headers={**form, "X-Fragment": "1"}
        )
        assert r.status == 422 and r.json()["code"] == "invalid_offset", r.text()

    # Nothing changed.
    assert offsets(server, token, later["id"]) == [3600]
    page.goto(server.url(f"/drops/{later['id']}"))
    expect(chip(page, "1 hour before")).to_be_checked()
    expect(chip(page, "1 day before")).not_to_be_checked()


def test_soon_notices_say_how_long_before(server: Server, phone: Any) -> None:
    _, later, _ = brand_with_drops(server)
    page = phone.new_page()
    sign_up(page, server, "maya")
    token = server.token("maya")
    leads = {"offsets": [86400, 3600, 900]}
    r = server.api("POST", f"/api/v1/drops/{later['id']}/remind", token, json=leads)
    assert r.status_code == 200, r.text
    launch = datetime.fromisoformat(later["launch_at"])
    server.set_clock(launch - timedelta(minutes=15))  # all three come due
    deadline = time.monotonic() + 15
    soon = "/api/v1/notifications?types[]=drop_soon"
    while len(server.api("GET", soon, token).json()) < 3:
        assert time.monotonic() < deadline, "the three soon notices never came"
        time.sleep(0.1)

    page.goto(server.url("/notifications"))
    items = page.locator(".notification")
    expect(items.filter(has_text="Eau de Nuit, édition limitée starts tomorrow.")).to_have_count(1)
    expect(items.filter(has_text="Eau de Nuit, édition limitée starts in 1 hour.")).to_have_count(1)
    expect(
        items.filter(has_text="Eau de Nuit, édition limitée starts in 15 minutes.")
    ).to_have_count(1)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(86400, "1 day"), (172800, "2 days"), (3600, "1 hour"), (7200, "2 hours"),
     (900, "15 minutes"), (60, "1 minute"), (5400, "90 minutes"), (45, "45 seconds")],
)  # fmt: skip
def test_lead_wording(seconds: int, text: str) -> None:
    assert lead_text(seconds) == text


def test_leads_phrase_and_starts_in() -> None:
    assert leads_phrase([900, 86400]) == "1 day and 15 minutes before, and at launch"
    assert leads_phrase([86400, 3600, 900]) == "1 day, 1 hour and 15 minutes before, and at launch"
    assert leads_phrase([3600]) == "1 hour before, and at launch"
    assert leads_phrase([]) == "at launch"
    assert starts_in(86400) == "starts tomorrow"
    assert starts_in(3600) == "starts in 1 hour"
    assert starts_in(900) == "starts in 15 minutes"
    assert starts_in(None) == "starts soon"
