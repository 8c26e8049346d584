"""A browser asking for a page gets an HTML error page in the app's look, with a sentence
about what to do (404, 405, 422, 429, 500); the API (``/api/...``) keeps its JSON errors
(docs/api.md), and so do the web app's own fetch() calls and clients that ask for JSON."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from dropbell import errors
from dropbell.web.routing import PageRoute
from tests.helpers import Api

pytestmark = pytest.mark.anyio

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
DEVELOPER_WORDS = ("Input should", "String should", "drop_id", "max_id", '"error"', "Not Found")


def _page(r: httpx.Response, status: int, *sentences: str) -> str:
    """The app's error page: its layout, the status's title and readable words only."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("text/html")
    html = r.text.replace("&#39;", "'")
    assert "/static/app.css" in html and '<header class="topbar">' in html  # base.html's layout
    panel = html.split('class="panel error-panel"', 1)[1].split("</div>", 1)[0]
    assert "Back to drops" in panel
    for sentence in sentences:
        assert sentence in panel, panel
    for words in DEVELOPER_WORDS:
        assert words not in panel, words
    return panel


def _json(r: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["code"] == code and isinstance(body["error"], str) and body["error"]
    return body  # type: ignore[no-any-return]


@pytest.fixture
async def crashing(app: object) -> AsyncIterator[httpx.AsyncClient]:
    """The app with routes that fail the ways a real one can (a bug, a rate limit): pages
    (PageRoute, as the web's are) and API ones; and a client that gets the answer a browser
    would get instead of the exception."""

    async def crash() -> None:
        raise RuntimeError("a bug")

    async def limited() -> None:
        raise errors.RateLimited(headers={"Retry-After": "7"})

    router = app.router  # type: ignore[attr-defined]
    for path, endpoint in (("/_probe/crash", crash), ("/_probe/limited", limited)):
        router.add_api_route(path, endpoint, route_class_override=PageRoute)
        router.add_api_route(f"/api/v1{path}", endpoint)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://dropbell.test") as c:
        yield c


async def test_an_unknown_page_is_a_404_page(client: httpx.AsyncClient) -> None:
    _page(await client.get("/nope", headers=BROWSER), 404, "Not found", "find that page")
    _page(await client.get("/static/nope.css", headers=BROWSER), 404, "find that page")
    _page(await client.get("/drops/abc", headers=BROWSER), 404, "find that page")
    _page(await client.get("/drops/12345", headers=BROWSER), 404, "find that page")
    _page(await client.get("/drops/99999999999999999999", headers=BROWSER), 404)
    _page(await client.get("/drops/abc/shop", headers=BROWSER), 404, "find that page")
    _page(await client.get("/posts/3000000000", headers=BROWSER), 404, "find that page")


async def test_a_logged_in_shopper_s_404_page_has_their_tabs(api: Api) -> None:
    shopper = await api.signup()
    await api.client.get("/login")
    form = {
        "username": shopper.username,
        "password": "correct horse battery",
        "csrf_token": api.client.cookies["dropbell_csrf"],
    }
    assert (await api.client.post("/login", data=form)).status_code == 303
    r = await api.client.get("/nope", headers=BROWSER)
    _page(r, 404, "find that page")
    assert '<nav class="tabs"' in r.text and 'href="/signup"' not in r.text


async def test_a_wrong_method_is_a_405_page(client: httpx.AsyncClient) -> None:
    r = await client.post("/", headers=BROWSER)
    _page(r, 405, "Not here", "Go back and use its buttons and forms")
    assert "GET" in r.headers["allow"]


async def test_a_bad_link_is_a_422_page(client: httpx.AsyncClient) -> None:
    _page(await client.get("/?max_id=abc", headers=BROWSER), 422, "This link is not right")
    _page(await client.get("/?max_id=99999999999999999999", headers=BROWSER), 422)
    html = _page(await client.get("/tags/not%20a%20tag", headers=BROWSER), 422)
    assert "hashtag" in html.lower() and "tag:" not in html


async def test_too_many_and_a_crash_are_pages(crashing: httpx.AsyncClient) -> None:
    r = await crashing.get("/_probe/limited", headers=BROWSER)
    _page(r, 429, "Slow down", "Wait 7 seconds, then try again.")
    assert r.headers["retry-after"] == "7"
    r = await crashing.get("/_probe/crash", headers=BROWSER)
    html = _page(r, 500, "Something went wrong on our side. Try again in a moment.")
    assert "a bug" not in html and "RuntimeError" not in html


async def test_the_api_keeps_its_json_errors(crashing: httpx.AsyncClient) -> None:
    body = _json(await crashing.get("/api/v1/nope", headers=BROWSER), 404, "not_found")
    assert set(body) == {"error", "code"}
    body = _json(await crashing.get("/api/v1/drops/abc", headers=BROWSER), 422, "invalid")
    assert set(body) == {"error", "code", "details"}
    _json(await crashing.get("/api/v1/drops/12345", headers=BROWSER), 404, "not_found")
    r = await crashing.post("/api/v1/drops/1", headers=BROWSER)
    _json(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "GET, PATCH"
    r = await crashing.get("/api/v1/_probe/limited", headers=BROWSER)
    _json(r, 429, "rate_limited")
    assert r.headers["retry-after"] == "7"
    body = _json(await crashing.get("/api/v1/_probe/crash", headers=BROWSER), 500, "internal_error")
    assert body == {"error": "Something went wrong on our side.", "code": "internal_error"}
    _json(await crashing.get("/metrics", headers=BROWSER), 401, "unauthorized")  # no token


async def test_clients_that_ask_for_json_and_the_app_script_get_json(
    crashing: httpx.AsyncClient,
) -> None:
    as_json = {"Accept": "application/json"}
    _json(await crashing.get("/nope", headers=as_json), 404, "not_found")
    _json(await crashing.get("/nope"), 404, "not_found")  # httpx says */*: not a browser
    fetch = {**BROWSER, "X-Fragment": "card"}
    _json(await crashing.get("/drops/12345/card", headers=fetch), 404, "not_found")
    _json(await crashing.post("/", headers=fetch), 405, "method_not_allowed")


async def test_the_sign_up_says_what_a_username_may_be(api: Api) -> None:
    await api.client.get("/signup", headers=BROWSER)
    r = await api.client.post(
        "/signup",
        headers=BROWSER,
        data={
            "username": "maya chen!",
            "password": "correct horse battery",
            "country": "US",
            "language": "en",
            "timezone": "UTC",
            "csrf_token": api.client.cookies["dropbell_csrf"],
        },
    )
    assert r.status_code == 422
    assert (
        "Choose a username of 3 to 30 letters (a to z), digits or underscores (_), "
        "with no spaces." in r.text
    )
    assert "String should" not in r.text and "pattern" not in r.text


def _field_error(html: str, name: str) -> str:
    """The message beside one field (``_field.html``'s ``<p class="error" id="e-…">``)."""
    after = html.split(f'id="e-{name}">', 1)[1]
    return after.split("</p>", 1)[0].replace("&#39;", "'")


async def test_forms_name_fields_as_the_form_does(api: Api) -> None:
    brand = await api.partner()
    await api.client.get("/login")
    form = {
        "username": brand.username,
        "password": "correct horse battery",
        "csrf_token": api.client.cookies["dropbell_csrf"],
    }
    assert (await api.client.post("/login", data=form)).status_code == 303
    csrf = api.client.cookies["dropbell_csrf"]
    launch = (api.clock.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")

    r = await api.client.post(
        "/console/drops/new",
        data={"title": "", "price": "cheap", "shop_url": "", "tag": "", "csrf_token": csrf},
    )
    assert r.status_code == 422
    assert _field_error(r.text, "title") == "Fill in the title."
    assert _field_error(r.text, "launch_at") == "Fill in the launch time."
    assert _field_error(r.text, "price").startswith("Write the price as a number")
    r = await api.client.post(
        "/console/drops/new",
        data={
            "title": "Sneaker",
            "launch_at": launch,
            "shop_url": "http://shop.example/x",
            "tag": "formwords",
            "csrf_token": csrf,
        },
    )
    assert r.status_code == 422
    assert _field_error(r.text, "shop_url") == "The shop link must use https."
    said = re.findall(r'<p class="error" id="e-[a-z_]+">([^<]*)</p>', r.text)
    assert said and not [m for m in said if re.search(r"[a-z]_[a-z]|Input should|decimal", m)]

    r = await api.client.post("/compose", data={"text": "x" * 501, "csrf_token": csrf})
    assert r.status_code == 422
    assert _field_error(r.text, "text") == "The post can be at most 500 characters; shorten it."
