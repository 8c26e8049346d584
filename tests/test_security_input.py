"""Issue 11, bad input and what answers carry:

5. Launch times are bounded (DROPBELL_MAX_LAUNCH_AHEAD_DAYS), and times near the ends of
   the calendar format without failing (pages in any zone, .ics, countdowns, leads).
6. Ids past 64 bits on web pages (404 pages), in ``max_id`` and in ``Last-Event-ID``.
7. NUL and other control characters in text fields: 422 / a form error, never a 500.
17. Absolute URLs come from DROPBELL_PUBLIC_URL, never from the Host header.
19. A 500 carries the security headers (and HSTS with an https public URL).
20. A body that is not JSON is 400 ``bad_request``; JSON of the wrong shape is 422.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI

from dropbell.app import create_app
from dropbell.clock import FakeClock
from dropbell.config import Settings
from tests.helpers import Api, User, iso
from tests.live.test_stream_sessions import LiveStream

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery"
PAST_64_BITS = "99999999999999999999"
FAR = "9999-12-31T23:00:00Z"


def _drop_body(api: Api, **fields: Any) -> dict[str, Any]:
    body = {
        "title": "Test sneaker",
        "launch_at": iso(api.clock.now() + timedelta(hours=1)),
        "shop_url": "https://shop.example/sneaker",
        "tag": "sneaker1",
    }
    return {**body, **fields}


async def _post_drop(api: Api, brand: User, **fields: Any) -> httpx.Response:
    return await api.client.post(
        "/api/v1/drops", json=_drop_body(api, **fields), headers=brand.headers
    )


async def _web_login(api: Api, username: str) -> str:
    """Log the test client's browser in; the CSRF token for its forms."""
    await api.client.get("/login")
    form = {
        "username": username,
        "password": PASSWORD,
        "csrf_token": api.client.cookies["dropbell_csrf"],
    }
    assert (await api.client.post("/login", data=form)).status_code == 303
    return api.client.cookies["dropbell_csrf"]


def _console_form(api: Api, csrf: str, **fields: str) -> dict[str, str]:
    form = {
        "title": "Sneaker",
        "launch_at": (api.clock.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "shop_url": "https://shop.example/x",
        "tag": "consoleform",
        "csrf_token": csrf,
    }
    return {**form, **fields}


# -- 5. launch times ------------------------------------------------------------------


@pytest.mark.parametrize(
    "launch_at",
    [
        FAR,
        "9999-12-31T22:00:00-05:00",  # past year 9999 in UTC: was a 500
        "0001-01-01T00:00:00+05:00",  # before year 1 in UTC
    ],
)
async def test_a_launch_past_the_calendar_or_the_bound_is_422(api: Api, launch_at: str) -> None:
    brand = await api.partner()
    r = await _post_drop(api, brand, launch_at=launch_at)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid" and "launch_at" in r.json()["error"]


async def test_launch_at_is_bounded_by_the_setting(api: Api) -> None:
    brand = await api.partner()
    limit = api.clock.now() + timedelta(days=730)
    r = await _post_drop(api, brand, launch_at=iso(limit + timedelta(minutes=1)))
    assert r.status_code == 422, r.text
    assert "730 days" in r.json()["error"]
    r = await _post_drop(api, brand, launch_at=iso(limit))
    assert r.status_code == 201, r.text
    r = await api.client.patch(
        f"/api/v1/drops/{r.json()['id']}",
        json={"launch_at": iso(limit + timedelta(days=1))},
        headers=brand.headers,
    )
    assert r.status_code == 422 and "730 days" in r.json()["error"]

    api.app.state.settings.max_launch_ahead_days = 3650
    r = await _post_drop(api, brand, tag="later", launch_at=iso(limit + timedelta(days=1)))
    assert r.status_code == 201, r.text


async def test_the_console_shows_a_far_launch_as_a_form_error(api: Api) -> None:
    brand = await api.partner()
    csrf = await _web_login(api, brand.username)
    for when in (
        "9999-12-31T23:00",
        (api.clock.now() + timedelta(days=800)).strftime("%Y-%m-%dT%H:%M"),
    ):
        page = await api.client.post(
            "/console/drops/new", data=_console_form(api, csrf, launch_at=when)
        )
        assert page.status_code == 422, page.text
        assert 'id="e-launch_at"' in page.text  # the error, beside the field
        assert f'value="{when}"' in page.text
    assert (await api.client.get("/api/v1/drops")).json() == []


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Asia/Tokyo", "America/Los_Angeles"])
async def test_a_drop_at_the_end_of_the_calendar_shows_everywhere(api: Api, zone: str) -> None:
    """A drop at 9999-12-31T23:00Z (allowed by a generous operator): every page, in a
    zone ahead of UTC or behind, its .ics, its countdown and its leads work."""
    api.app.state.settings.max_launch_ahead_days = 3_000_000
    api.app.state.settings.reminder_offsets = "86400,3600,900,99999999999999"
    brand = await api.signup(f"brand_{zone.split('/')[1].lower()}", timezone=zone)
    from dropbell.accounts import service as accounts
    from dropbell.db import transaction

    async with transaction(api.app.state.sessionmaker) as session:
        await accounts.approve_partner(session, brand.username, ["shop.example"])
    r = await _post_drop(api, brand, launch_at=FAR, tag="farfuture")
    assert r.status_code == 201, r.text
    drop = r.json()
    assert drop["launch_at"] == FAR
    shopper = await api.signup(f"shop_{zone.split('/')[1].lower()}", timezone=zone)
    assert (await api.remind(shopper, drop["id"])).status_code == 200

    r = await api.client.get(f"/api/v1/drops/{drop['id']}/calendar.ics")
    assert r.status_code == 200 and "DTSTART:99991231T230000Z" in r.text

    await _web_login(api, shopper.username)
    for path in (
        "/",
        f"/drops/{drop['id']}",
        f"/drops/{drop['id']}/card",
        f"/drops/{drop['id']}/card?variant=page",
        "/tags/farfuture",
        "/reminders",
        f"/posts/{drop['post_id']}",
    ):
        page = await api.client.get(path)
        assert page.status_code == 200, (path, page.text)
        assert "Starts in" in page.text, path
    await _web_login(api, brand.username)
    for path in (f"/console/drops/{drop['id']}", f"/console/drops/{drop['id']}/edit", "/console"):
        page = await api.client.get(path)
        assert page.status_code == 200, (path, page.text)


# -- 6. ids ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"/drops/{PAST_64_BITS}",
        "/drops/0",
        f"/drops/{2**63}/card",
        f"/posts/{PAST_64_BITS}",
        f"/notifications/{2**63 - 1}/row",
        f"/notifications/{2**63}/row",
        f"/console/drops/{PAST_64_BITS}",
        f"/console/drops/{PAST_64_BITS}/edit",
    ],
)
async def test_an_id_that_cannot_exist_is_a_404_page(api: Api, path: str) -> None:
    brand = await api.partner()
    await _web_login(api, brand.username)
    page = await api.client.get(path)
    assert page.status_code == 404, page.text
    assert page.headers["content-type"].startswith("text/html") and "Not found" in page.text


async def test_an_id_that_cannot_exist_in_a_page_s_form_is_a_404_page(api: Api) -> None:
    shopper = await api.signup()
    csrf = await _web_login(api, shopper.username)
    for path in (f"/drops/{PAST_64_BITS}/remind", f"/notifications/{PAST_64_BITS}/open"):
        page = await api.client.post(path, data={"csrf_token": csrf})
        assert page.status_code == 404, (path, page.text)
    fetched = await api.client.get(f"/drops/{PAST_64_BITS}/card", headers={"X-Fragment": "1"})
    assert fetched.status_code == 404 and fetched.json()["code"] == "not_found"


@pytest.mark.parametrize("path", ["/", "/notifications", "/bookmarks", "/tags/sneaker"])
async def test_a_max_id_past_64_bits_on_a_page_is_refused(api: Api, path: str) -> None:
    shopper = await api.signup()
    await _web_login(api, shopper.username)
    page = await api.client.get(path, params={"max_id": PAST_64_BITS})
    assert page.status_code == 422, page.text
    assert page.headers["content-type"].startswith("text/html")
    r = await api.client.get(
        f"/api/v1/notifications?max_id={PAST_64_BITS}", headers=shopper.headers
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid"


@pytest.mark.parametrize("last_id", [PAST_64_BITS, str(2**63), "-1", "abc", "1e5"])
async def test_a_bad_last_event_id_streams_from_now(api: Api, last_id: str) -> None:
    shopper = await api.signup()
    stream = await LiveStream.open(api.app, {**shopper.headers, "Last-Event-ID": last_id})
    assert stream.status == 200, stream.body
    assert b"unread_count" in stream.body
    await stream.hang_up()


# -- 7. control characters ------------------------------------------------------------


@pytest.mark.parametrize("bad", ["a\x00b", "a\x07b", "a\x1bb", "a\x7fb", "a\x85b", "a\nb"])
async def test_control_characters_in_one_line_fields_are_422(api: Api, bad: str) -> None:
    brand = await api.partner()
    r = await api.client.post(
        "/api/v1/auth/token", json={"username": bad, "password": PASSWORD, "platform": "ios"}
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid", r.text
    assert "control characters" in r.json()["error"]
    r = await api.client.post(
        "/api/v1/accounts",
        json={"username": "newname", "password": PASSWORD, "display_name": bad, "country": "US",
              "language": "en"},
    )  # fmt: skip
    assert r.status_code == 422 and "display_name" in r.json()["error"], r.text
    for field in ("title", "shop_url", "tag", "image_url", "currency"):
        value = "https://shop.example/" + bad if field in ("shop_url", "image_url") else bad
        r = await _post_drop(api, brand, **{field: value})
        assert r.status_code == 422, (field, r.text)
    r = await api.client.get(f"/api/v1/tags/{quote(bad)}")
    assert r.status_code == 422, r.text


async def test_an_unpaired_surrogate_is_422(api: Api) -> None:
    brand = await api.partner()
    body = (
        b'{"title": "a\\ud800b", "launch_at": "2030-01-01T13:00:00Z", '
        b'"shop_url": "https://shop.example/x", "tag": "surrogate"}'
    )
    r = await api.client.post(
        "/api/v1/drops", content=body, headers={**brand.headers, "Content-Type": "application/json"}
    )
    assert r.status_code == 422, r.text  # pydantic refuses it before our check
    r = await api.client.post(
        "/api/v1/auth/token",
        content=b'{"username": "\\udfffx", "password": "x", "platform": "ios"}',
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("bad", ["\x00", "\x08", "\x7f", "\x9b"])
async def test_multi_line_fields_keep_newlines_but_not_control_characters(
    api: Api, bad: str
) -> None:
    brand = await api.partner()
    shopper = await api.signup()
    r = await _post_drop(api, brand, description=f"Line one\r\nline\ttwo{bad}")
    assert r.status_code == 422 and "description" in r.json()["error"], r.text
    r = await api.client.post(
        "/api/v1/posts", headers=shopper.headers, json={"text": f"hi{bad}there"}
    )
    assert r.status_code == 422, r.text
    r = await _post_drop(api, brand, description="Line one\r\nline\ttwo")
    assert r.status_code == 201 and r.json()["description"] == "Line one\r\nline\ttwo"
    r = await api.client.patch(
        f"/api/v1/drops/{r.json()['id']}", json={"title": f"x{bad}"}, headers=brand.headers
    )
    assert r.status_code == 422, r.text
    r = await api.client.post(
        "/api/v1/posts", headers=shopper.headers, json={"text": "two\nlines\tand a tab"}
    )
    assert r.status_code == 201, r.text


async def test_web_forms_refuse_control_characters_beside_the_field(api: Api) -> None:
    brand = await api.partner()
    await api.client.get("/login")
    csrf = api.client.cookies["dropbell_csrf"]
    page = await api.client.post(
        "/login", data={"username": "a\x00b", "password": PASSWORD, "csrf_token": csrf}
    )
    assert page.status_code == 422 and "control characters" in page.text.lower(), page.text
    page = await api.client.post(
        "/signup",
        data={"username": "newbie", "password": PASSWORD, "display_name": "N\x00o",
              "country": "US", "language": "en", "timezone": "UTC", "csrf_token": csrf},
    )  # fmt: skip
    assert page.status_code == 422 and "control characters" in page.text.lower(), page.text

    csrf = await _web_login(api, brand.username)
    form = _console_form(api, csrf, title="Sneaker\x00", description="ok\r\nfine\x00")
    page = await api.client.post("/console/drops/new", data=form)
    assert page.status_code == 422 and "control characters" in page.text.lower(), page.text
    form = _console_form(api, csrf, description="two\r\nlines")
    page = await api.client.post("/console/drops/new", data=form)
    assert page.status_code == 303, page.text
    page = await api.client.post("/compose", data={"text": "hi\x00", "csrf_token": csrf})
    assert page.status_code == 422, page.text
    page = await api.client.post(
        "/settings",
        data={"display_name": "B\x00", "country": "US", "language": "en", "timezone": "UTC",
              "platform": "web", "csrf_token": csrf},
    )  # fmt: skip
    assert page.status_code == 422 and "control characters" in page.text.lower(), page.text
    page = await api.client.get("/tags/a%00b")
    assert page.status_code == 422, page.text
    page = await api.client.get("/drops/1?via=a%00b")
    assert page.status_code in (404, 422), page.text


# -- 17. the public URL, not the Host header -----------------------------------------


async def test_links_use_the_public_url_whatever_the_host_header(api: Api) -> None:
    brand = await api.partner()
    shopper = await api.signup()
    drops = [await api.create_drop(brand) for _ in range(2)]
    forged = {"Host": "evil.example"}
    r = await api.client.get("/api/v1/drops", params={"limit": 1}, headers=forged)
    assert r.status_code == 200
    assert r.headers["link"] == (
        f'<http://dropbell.test/api/v1/drops?limit=1&max_id={drops[1]["id"]}>; rel="next"'
    )
    assert r.json()[0]["url"] == f"http://dropbell.test/drops/{drops[1]['id']}"
    r = await api.client.get(
        "/api/v1/timelines/public", params={"limit": 1}, headers={**forged, **shopper.headers}
    )
    assert r.headers["link"].startswith("<http://dropbell.test/api/v1/timelines/public?")
    assert r.json()[0]["url"].startswith("http://dropbell.test/posts/")
    post_id = r.json()[0]["id"]
    r = await api.client.post(
        f"/api/v1/posts/{post_id}/share", headers={**forged, **shopper.headers}
    )
    assert r.status_code == 200 and r.json()["url"] == f"http://dropbell.test/posts/{post_id}"
    r = await api.client.get(f"/api/v1/drops/{drops[0]['id']}/calendar.ics", headers=forged)
    assert "evil.example" not in r.text and "drops/" in r.text
    assert f"http://dropbell.test/drops/{drops[0]['id']}" in r.text.replace("\r\n ", "")
    assert "evil" not in (await api.client.get("/", headers=forged)).text

    for _ in range(2):  # a tag page's Link, in ASCII (a header cannot carry スニーカー)
        r = await api.client.post(
            "/api/v1/posts", headers=shopper.headers, json={"text": "Yes #スニーカー"}
        )
        assert r.status_code == 201, r.text
    r = await api.client.get("/api/v1/tags/スニーカー", params={"limit": 1}, headers=forged)
    assert r.status_code == 200, r.text
    link = r.headers["link"].split(">")[0].lstrip("<")
    assert link.startswith("http://dropbell.test/api/v1/tags/%E3%82%B9%E3%83%8B")
    assert len((await api.client.get(link)).json()["posts"]) == 1


# -- 19. security headers on a 500, HSTS ---------------------------------------------


def _add_boom(app: FastAPI) -> None:
    @app.get("/api/v1/_boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/_boom_page")
    async def boom_page() -> None:
        raise RuntimeError("boom")


@pytest.fixture
async def https_app(settings: Settings, clock: FakeClock) -> AsyncIterator[FastAPI]:
    app = create_app(settings.model_copy(update={"public_url": "https://dropbell.example"}), clock)
    yield app
    await app.state.engine.dispose()


async def _get(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://dropbell.test") as c:
        return await c.get(path)


async def test_a_500_carries_the_security_headers(app: FastAPI) -> None:
    _add_boom(app)
    r = await _get(app, "/api/v1/_boom")
    assert r.status_code == 500
    assert r.json() == {"error": "Something went wrong on our side.", "code": "internal_error"}
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert r.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in r.headers  # the public URL is http here
    page = await _get(app, "/_boom_page")
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "Something went wrong" in page.text


async def test_hsts_is_sent_when_the_public_url_is_https(https_app: FastAPI) -> None:
    _add_boom(https_app)
    for path in ("/healthz", "/login", "/api/v1/_boom", "/api/v1/nothing-here"):
        r = await _get(https_app, path)
        assert r.headers["strict-transport-security"] == "max-age=31536000", path
        assert r.headers["x-content-type-options"] == "nosniff"


# -- 20. malformed JSON ---------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{", b"not json", b'{"title": "x",}', b"\xff\xfe{}"])
async def test_a_body_that_is_not_json_is_400(api: Api, body: bytes) -> None:
    brand = await api.partner()
    r = await api.client.post(
        "/api/v1/drops",
        content=body,
        headers={**brand.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "bad_request" and "body" in r.json()["error"]
    assert set(r.json()) == {"error", "code"}


async def test_json_of_the_wrong_shape_is_still_422(api: Api) -> None:
    brand = await api.partner()
    for body in (b"[]", b'"x"', b'{"title": 5}', b"{}"):
        r = await api.client.post(
            "/api/v1/drops",
            content=body,
            headers={**brand.headers, "Content-Type": "application/json"},
        )
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "invalid"
