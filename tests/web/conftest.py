"""Browser journeys against real `dropbell serve` processes, on SQLite and on PostgreSQL.

Chromium comes from the system (``apt-get install chromium`` → /usr/bin/chromium);
a missing browser is a failure with a clear message, never a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.support import CHROMIUM, CHROMIUM_ARGS, Server, ShopSite, fresh_database

BACKENDS = os.environ.get("DROPBELL_TEST_BACKENDS", "sqlite,postgresql").split(",")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


# Package scope: Playwright's sync API keeps an event loop running while it is started,
# so it must stop before any async test that may run after the browser tests.
@pytest.fixture(scope="package")
def playwright() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "Playwright is missing: pip install 'dropbell[dev]' (or pip install playwright)",
            pytrace=False,
        )
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` "
            "(or point DROPBELL_TEST_CHROMIUM at a Chromium binary)",
            pytrace=False,
        )
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="package")
def browser(playwright: object) -> Iterator[object]:
    browser = playwright.chromium.launch(  # type: ignore[attr-defined]
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def devices(playwright: object) -> dict[str, dict[str, object]]:
    found = playwright.devices  # type: ignore[attr-defined]
    iphone, pixel = dict(found["iPhone 13"]), dict(found["Pixel 7"])
    for device in (iphone, pixel):
        device.pop("default_browser_type", None)
        device["device_scale_factor"] = 2
    return {"iphone": iphone, "android": pixel}


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    srv = Server(database_url, tmp_path)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopSite]:
    site = ShopSite(tmp_path_factory.mktemp("shop"))
    yield site
    site.stop()


@pytest.fixture
def phone(browser: object, devices: dict[str, dict[str, object]]) -> Iterator[object]:
    """A shopper's iPhone (its Safari user agent makes the platform ``ios``)."""
    context = browser.new_context(  # type: ignore[attr-defined]
        **devices["iphone"], ignore_https_errors=True, timezone_id="America/New_York"
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def android(browser: object, devices: dict[str, dict[str, object]]) -> Iterator[object]:
    """A shopper's Android phone (platform ``android``: outside the default rollout)."""
    context = browser.new_context(  # type: ignore[attr-defined]
        **devices["android"], ignore_https_errors=True, timezone_id="Europe/Berlin"
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def laptop(browser: object) -> Iterator[object]:
    """A brand's laptop."""
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 1280, "height": 860}, ignore_https_errors=True
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


def screenshot(page: object, name: str, backend_url: str) -> None:
    """Save a phone-size screenshot of the main pages (from the SQLite run) to docs/."""
    if not backend_url.startswith("sqlite"):
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.querySelector('[data-toasts]')?.replaceChildren()")  # type: ignore[attr-defined]
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))  # type: ignore[attr-defined]
