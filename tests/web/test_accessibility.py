"""Accessibility, measured: axe-core on every page, at phone and desktop size, in English
and in Arabic (right to left), and on a phone in dark mode, for a visitor, a shopper and
a brand. Any serious or critical violation fails, listed page by page.

axe-core comes from npm (``tests/web/package.json``; ``./scripts/test`` runs ``npm ci``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.web.support import PASSWORD, Server, run_cli

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
BAD = ("serious", "critical")


@dataclass(frozen=True)
class Found:
    page: str
    rule: str
    impact: str
    help: str
    nodes: list[str]

    def __str__(self) -> str:
        where = "\n".join(f"      {n}" for n in self.nodes[:4])
        more = f"\n      … and {len(self.nodes) - 4} more" if len(self.nodes) > 4 else ""
        return f"  {self.page}: [{self.impact}] {self.rule}: {self.help}\n{where}{more}"


@pytest.fixture(params=["phone", "desktop", "phone, dark mode", "phone, Arabic", "desktop, Arabic"])
def screen(
    request: pytest.FixtureRequest, browser: Any, devices: dict[str, dict[str, object]]
) -> Iterator[tuple[str, Any]]:
    """A browser context at phone or desktop size; axe is injected past the pages' CSP."""
    if not AXE.exists():
        pytest.fail(
            f"axe-core is missing ({AXE}): run `npm ci --prefix tests/web` (./scripts/test does)",
            pytrace=False,
        )
    size: dict[str, Any] = (
        dict(devices["iphone"])
        if request.param.startswith("phone")
        else {"viewport": {"width": 1280, "height": 860}}
    )
    scheme = "dark" if "dark" in request.param else "light"
    locale = "ar" if "Arabic" in request.param else "en-US"  # the browser's Accept-Language
    context = browser.new_context(
        **size,
        color_scheme=scheme,
        locale=locale,
        bypass_csp=True,
        timezone_id="America/New_York",
    )
    context.set_default_timeout(15_000)
    yield request.param, context
    context.close()


def axe(page: Page, name: str) -> list[Found]:
    """Run axe-core on the page as it is now; its serious and critical violations."""
    page.wait_for_load_state("load")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, { resultTypes: ['violations'] })")
    found = []
    for v in result["violations"]:
        if v["impact"] not in BAD:
            continue
        nodes = [
            f"{' '.join(n['target'])}: {n.get('failureSummary', '').splitlines()[-1].strip()}"
            for n in v["nodes"]
        ]
        found.append(Found(name, v["id"], v["impact"], v["help"], nodes))
    return found


def visit(
    page: Page, server: Server, path: str, name: str | None = None, lang: str = "en"
) -> list[Found]:
    response = page.goto(server.url(path))
    assert response is not None and response.ok, f"{path}: {response and response.status}"
    # The page is in the language under test (right to left in Arabic).
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    return axe(page, name or path)


def log_in(page: Page, server: Server, username: str) -> None:
    """By the form's fields, whatever the page's language."""
    page.goto(server.url("/login"))
    page.locator("#f-username").fill(username)
    page.locator("#f-password").fill(PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(server.url("/"))


def content(server: Server, lang: str) -> dict[str, Any]:
    """A brand with a drop (an image) and a live one, a shopper with a post, a reminder, a
    bookmark, a followed brand and notifications: every page has its rows."""
    brand = server.signup("maison", display_name="Maison Aurelle", language=lang)
    run_cli(server.database_url, "partner", "add", "maison", "--shop-domain", "shop.example")
    drop = server.create_drop(
        brand,
        in_=timedelta(hours=3),
        title="Le Sac Matelassé",
        price="3900.00",
        currency="USD",
        tag="LeSac",
        image_url="/static/demo/bag.svg",
    )
    server.create_drop(brand, in_=timedelta(days=2), title="Orchid Eau de Parfum", tag="Orchid")
    maya = server.signup("maya", display_name="Maya Chen", language=lang)
    r = server.api("POST", "/api/v1/posts", maya, json={"text": "Counting down to #LeSac"})
    assert r.status_code == 201, r.text
    post_id = r.json()["id"]
    for path, token in (
        (f"/api/v1/drops/{drop['id']}/remind", maya),
        (f"/api/v1/posts/{post_id}/bookmark", maya),
        (f"/api/v1/posts/{post_id}/like", brand),
        (f"/api/v1/posts/{post_id}/repost", brand),
    ):
        r = server.api("POST", path, token)
        assert r.status_code == 200, f"{path}: {r.text}"
    # Maya follows the brand and hears of its next drop (a drop_announced notice).
    brand_id = server.http.get("/api/v1/accounts/maison").json()["id"]
    r = server.api("POST", f"/api/v1/accounts/{brand_id}/follow", maya)
    assert r.status_code == 200, r.text
    server.create_drop(brand, in_=timedelta(days=3), title="Le Carré de Soie", tag="Carre")
    return {"drop": drop, "post": post_id}


# On SQLite alone: axe reads the pages' HTML, which the same templates render from the
# same data on either database (the journeys run on both). It halves the suite's
# slowest browser test.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_page_has_no_serious_or_critical_violations(
    server: Server, screen: tuple[str, Any]
) -> None:
    size, context = screen
    lang = "ar" if "Arabic" in size else "en"
    made = content(server, lang)
    drop_id, post_id = made["drop"]["id"], made["post"]
    found: list[Found] = []

    page = context.new_page()
    visitor = ("/", f"/drops/{drop_id}", "/tags/lesac", f"/posts/{post_id}", "/@maison", "/login")
    for path in (*visitor, "/upcoming", "/search?q=sac", "/search?q=zzzyx"):
        found += visit(page, server, path, f"{path} (visitor)", lang)
    found += visit(page, server, "/signup", lang=lang)

    log_in(page, server, "maya")
    shopper = [
        "/",
        f"/drops/{drop_id}",
        "/tags/lesac",
        f"/posts/{post_id}",
        f"/posts/{post_id}?shared=1",
        "/@maison",
        "/notifications",
        "/reminders",
        "/bookmarks",
        "/settings",
        "/compose",
        "/upcoming",
        "/search?q=maison",
    ]
    for path in shopper:
        found += visit(page, server, path, f"{path} (shopper)", lang)
    # A form sent with mistakes: errors beside the fields.
    page.goto(server.url("/compose"))
    page.locator("main form[action='/compose'] button[type=submit]").click()
    expect(page.locator("#e-text")).to_be_visible()
    found += axe(page, "/compose with an error (shopper)")
    context.clear_cookies()

    log_in(page, server, "maison")
    for path in (
        "/console",
        "/console/drops/new",
        f"/console/drops/{drop_id}",
        f"/console/drops/{drop_id}/edit",
    ):
        found += visit(page, server, path, f"{path} (brand)", lang)
    # The drop's analytics: its charts (SVG), with the tables beside them open.
    page.goto(server.url(f"/console/drops/{drop_id}"))
    for summary in page.locator("details.chart-table > summary").all():
        summary.click()
    expect(page.locator("details.chart-table table").first).to_be_visible()
    found += axe(page, f"/console/drops/{drop_id} with its tables open (brand)")
    page.goto(server.url("/console/drops/new"))
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#e-title")).to_be_visible()
    found += axe(page, "/console/drops/new with errors (brand)")

    assert not found, (
        f"axe-core found {len(found)} serious or critical violation(s) at {size} size:\n"
        + "\n".join(str(f) for f in found)
    )
