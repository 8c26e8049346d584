"""A brand reads a drop's analytics on a phone: the console's list shows each drop's
figures, the drop's page draws the funnel, reminders over time and the sources as SVG
charts (each with its table), and the figures download as CSV."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import timedelta
from typing import Any

from playwright.sync_api import expect

from tests.web.conftest import screenshot
from tests.web.support import Server, run_cli
from tests.web.test_brand_journey import log_in

# When each of the twelve shoppers sets Remind me, in minutes after the drop's announcement.
MINUTES = (0, 10, 20, 70, 75, 130, 190, 200, 205, 210, 300, 320)
SHOPPERS = len(MINUTES)


def _wait_for(what: str, check: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _a_drop_with_activity(server: Server) -> tuple[str, dict[str, Any]]:
    """Twelve shoppers remind over five hours; at the launch some open its notice (in the
    inbox, or by a push), some tap Shop, and so does someone without an account."""
    brand = server.signup("maison", display_name="Maison Aurelle", timezone="America/New_York")
    run_cli(server.database_url, "partner", "add", "maison", "--shop-domain", "shop.example")
    start = server.now()
    drop = server.create_drop(
        brand,
        in_=timedelta(hours=6),
        title="Le Sac Matelassé",
        tag="LeSac",
        image_url="/static/demo/bag.svg",
    )
    tokens = []
    for i, minutes in enumerate(MINUTES):
        server.set_clock(start + timedelta(minutes=minutes))
        token = server.signup(f"shopper{i}")
        r = server.api("POST", f"/api/v1/drops/{drop['id']}/remind", token)
        assert r.status_code == 200, r.text
        tokens.append(token)
    server.set_clock(start + timedelta(hours=6, seconds=1))

    def released() -> dict[str, Any] | None:
        stats = server.api("GET", f"/api/v1/drops/{drop['id']}/stats", brand).json()
        return stats if stats["notified_live"] == SHOPPERS else None

    _wait_for("the launch notice", released)
    for token in tokens[:5]:  # five open it in the inbox
        live = server.api("GET", "/api/v1/notifications", token).json()[0]
        r = server.api("POST", f"/api/v1/notifications/{live['id']}/read", token)
        assert r.status_code == 200, r.text
    for i, token in enumerate(tokens[5:8]):  # three tap a push, two of them then Shop
        assert server.api("GET", f"/drops/{drop['id']}?source=push", token).status_code == 200
        if i < 2:
            server.api("GET", f"/drops/{drop['id']}/shop?source=push", token)
    for token in tokens[:3]:
        server.api("GET", f"/drops/{drop['id']}/shop?source=notification", token)
    server.http.get(f"/drops/{drop['id']}/shop?source=tag")  # someone without an account
    return brand, drop


def test_a_brand_reads_its_drops_analytics_on_a_phone(
    server: Server, phone: Any, database_url: str
) -> None:
    _brand, drop = _a_drop_with_activity(server)
    page = phone.new_page()
    log_in(page, server, "maison")
    page.goto(server.url("/console"))
    figures = page.locator(".console-figures").first
    expect(figures).to_contain_text("Reminded")
    expect(figures.locator("div").nth(0).locator("dd")).to_have_text(str(SHOPPERS))
    expect(figures.locator("div").nth(1).locator("dd")).to_have_text(str(SHOPPERS))  # told
    expect(figures.locator("div").nth(2).locator("dd")).to_have_text("8")  # opened
    expect(figures.locator("div").nth(3).locator("dd")).to_have_text("5")  # clicked

    page.get_by_role("link", name=re.compile("Le Sac Matelassé")).click()
    expect(page).to_have_url(server.url(f"/console/drops/{drop['id']}"))
    charts = page.locator("svg[role=img]")
    expect(charts).to_have_count(3)
    for i in range(3):
        expect(charts.nth(i)).to_be_visible()
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] <= 390  # fits the phone's width
    expect(page.locator(".funnel-legend")).to_contain_text(f"Reminded {SHOPPERS}")
    expect(page.locator(".funnel-legend")).to_contain_text("Clicked through 5")
    heading = page.get_by_role("heading", name="Reminders over time")
    heading.evaluate("h => h.scrollIntoView({ block: 'start' })")
    page.evaluate("window.scrollBy(0, -80)")  # below the sticky top bar
    screenshot(page, "brand-analytics", database_url)  # both charts, as a phone shows them

    hours = page.locator("section[aria-labelledby=hours-h]")
    expect(hours.locator("svg desc")).to_contain_text(f"{SHOPPERS} new reminders")
    hours.get_by_text("Show as a table").click()
    rows = hours.locator("tbody tr")
    assert sum(int(r.locator("td").inner_text()) for r in rows.all()) == SHOPPERS
    sources = page.locator("section[aria-labelledby=sources-h]")
    sources.get_by_text("Show as a table").click()
    push = sources.locator("tbody tr", has_text="Push")
    expect(push.locator("td")).to_have_text(["3", "2"])  # opened, tapped Shop

    with page.expect_download() as downloaded:
        page.get_by_role("link", name="Download CSV").click()
    download = downloaded.value
    name = rf"drop-{drop['id']}-lesac-\d{{4}}-\d\d-\d\d\.csv"  # the tag, as stored
    assert re.fullmatch(name, download.suggested_filename), download.suggested_filename
    body = open(download.path(), encoding="utf-8-sig").read()  # noqa: SIM115
    cells = {(s, n): v for s, n, v in list(csv.reader(io.StringIO(body)))[1:]}
    assert cells["drop", "title"] == "Le Sac Matelassé"
    assert (cells["funnel", "reminded"], cells["funnel", "clicked_anonymous"]) == ("12", "1")
