"""Hostile input and abuse: rate limits, oversized bodies, odd text, security headers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.helpers import Api

pytestmark = pytest.mark.anyio


def _signup_body(username: str) -> dict[str, str]:
    return {
        "username": username,
        "password": "correct horse battery",
        "country": "US",
        "language": "en",
    }


async def test_sign_up_is_rate_limited_per_address(api: Api) -> None:
    api.app.state.settings.rate_limit_signup = "3/3600"
    for i in range(3):
        assert (
            await api.client.post("/api/v1/accounts", json=_signup_body(f"bot{i}"))
        ).status_code == 201
    r = await api.client.post("/api/v1/accounts", json=_signup_body("bot3"))
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert 1 <= int(r.headers["retry-after"]) <= 3600
    api.clock.advance(timedelta(hours=1))
    assert (await api.client.post("/api/v1/accounts", json=_signup_body("bot3"))).status_code == 201


async def test_log_in_is_rate_limited(api: Api) -> None:
    await api.signup("target")
    api.app.state.settings.rate_limit_token = "5/300"
    guesses = [
        await api.client.post(
            "/api/v1/auth/token",
            json={"username": "target", "password": f"guess{i}", "platform": "ios"},
        )
        for i in range(7)
    ]
    assert [g.status_code for g in guesses] == [401] * 5 + [429] * 2
    assert "retry-after" in guesses[-1].headers


async def test_remind_and_unremind_are_rate_limited_per_account(api: Api) -> None:
    api.app.state.settings.rate_limit_remind = "4/60"
    brand = await api.partner()
    drop = await api.create_drop(brand)
    shopper, other = await api.signup(), await api.signup()
    codes = []
    for i in range(6):
        verb = "remind" if i % 2 == 0 else "unremind"
        r = await api.client.post(f"/api/v1/drops/{drop['id']}/{verb}", headers=shopper.headers)
        codes.append(r.status_code)
    assert codes == [200, 200, 200, 200, 429, 429]
    assert (await api.remind(other, drop["id"])).status_code == 200  # others are not affected
    api.clock.advance(timedelta(minutes=1))
    assert (await api.remind(shopper, drop["id"])).status_code == 200


async def test_posting_is_rate_limited_per_account(api: Api) -> None:
    api.app.state.settings.rate_limit_post = "3/60"
    author, other = await api.signup(), await api.signup()
    replies = [
        await api.client.post("/api/v1/posts", json={"text": f"post {i}"}, headers=author.headers)
        for i in range(5)
    ]
    assert [r.status_code for r in replies] == [201, 201, 201, 429, 429]
    assert replies[-1].json()["code"] == "rate_limited"
    assert 1 <= int(replies[-1].headers["retry-after"]) <= 60
    r = await api.client.post("/api/v1/posts", json={"text": "mine"}, headers=other.headers)
    assert r.status_code == 201  # others are not affected
    assert len((await api.client.get("/api/v1/timelines/public")).json()) == 4
    api.clock.advance(timedelta(minutes=1))
    r = await api.client.post("/api/v1/posts", json={"text": "again"}, headers=author.headers)
    assert r.status_code == 201


async def test_the_web_compose_form_counts_against_the_same_post_limit(api: Api) -> None:
    api.app.state.settings.rate_limit_post = "2/60"
    author = await api.signup()
    await api.client.get("/login")  # sets the CSRF cookie
    r = await api.client.post(
        "/login",
        data={
            "username": author.username,
            "password": "correct horse battery",
            "csrf_token": api.client.cookies["dropbell_csrf"],
        },
    )
    assert r.status_code == 303
    form = {"text": "from the web", "csrf_token": api.client.cookies["dropbell_csrf"]}
    assert (await api.client.post("/compose", data=form)).status_code == 303
    r = await api.client.post("/api/v1/posts", json={"text": "api"}, headers=author.headers)
    assert r.status_code == 201
    page = await api.client.post("/compose", data=form)
    assert page.status_code == 429 and 1 <= int(page.headers["retry-after"]) <= 60
    assert "Too many requests" in page.text and "from the web</textarea>" in page.text
    r = await api.client.post("/api/v1/posts", json={"text": "api"}, headers=author.headers)
    assert r.status_code == 429
    assert len((await api.client.get("/api/v1/timelines/public")).json()) == 2


async def test_the_web_remind_button_counts_against_the_same_remind_limit(api: Api) -> None:
    api.app.state.settings.rate_limit_remind = "3/60"
    brand = await api.partner()
    drop = await api.create_drop(brand)
    shopper = await api.signup()
    api.client.headers["user-agent"] = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0)"  # in the rollout
    await api.client.get("/login")  # sets the CSRF cookie
    csrf = api.client.cookies["dropbell_csrf"]
    form = {"username": shopper.username, "password": "correct horse battery", "csrf_token": csrf}
    assert (await api.client.post("/login", data=form)).status_code == 303
    tap = {"csrf_token": api.client.cookies["dropbell_csrf"]}  # a new one after logging in
    assert (await api.client.post(f"/drops/{drop['id']}/remind", data=tap)).status_code == 303
    assert (await api.remind(shopper, drop["id"])).status_code == 200
    assert (await api.client.post(f"/drops/{drop['id']}/unremind", data=tap)).status_code == 303
    r = await api.client.post(f"/drops/{drop['id']}/remind", data=tap)
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 60
    assert (await api.remind(shopper, drop["id"])).status_code == 429
    api.clock.advance(timedelta(minutes=1))
    assert (await api.client.post(f"/drops/{drop['id']}/remind", data=tap)).status_code == 303


async def test_a_bot_cannot_remind_on_many_drops_a_minute(api: Api) -> None:
    api.app.state.settings.remind_new_drops_per_minute = 3
    brand = await api.partner()
    drops = [await api.create_drop(brand) for _ in range(5)]
    bot = await api.signup()
    codes = [(await api.remind(bot, d["id"])).status_code for d in drops]
    assert codes == [200, 200, 200, 429, 429]
    assert (await api.remind(bot, drops[0]["id"])).status_code == 200  # a repeat tap is fine
    api.clock.advance(timedelta(seconds=61))
    assert (await api.remind(bot, drops[3]["id"])).status_code == 200
    counts = [
        (await api.client.get(f"/api/v1/drops/{d['id']}")).json()["reminder_count"] for d in drops
    ]
    assert counts == [1, 1, 1, 1, 0]


async def test_oversized_bodies_get_413_and_change_nothing(api: Api) -> None:
    big = {**_signup_body("huge"), "display_name": "x" * 70_000}
    r = await api.client.post("/api/v1/accounts", json=big)
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(100):
            yield b"x" * 1024

    r = await api.client.post(
        "/api/v1/accounts", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413
    r = await api.client.post(
        "/api/v1/auth/token",
        json={"username": "huge", "password": "correct horse battery", "platform": "ios"},
    )
    assert r.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"null",
        b"[]",
        b'{"username": 5, "password": "correct horse battery", "country": "US", "language": "en"}',
        b'{"username": "ok_name", "password": ["x"], "country": "US", "language": "en"}',
        b'{"username": "ok_name", "password": "correct horse battery", "country": "US"}',
        b"\xff\xfe\x00",
    ],
)
async def test_malformed_or_mistyped_json_is_a_4xx_with_a_code(api: Api, body: bytes) -> None:
    r = await api.client.post(
        "/api/v1/accounts", content=body, headers={"Content-Type": "application/json"}
    )
    # 400 when the bytes are not JSON text at all, 422 when the JSON is wrong.
    assert (r.status_code, r.json()["code"]) in {(400, "bad_request"), (422, "invalid")}, r.text
    assert (await api.client.get("/api/v1/drops")).status_code == 200


async def test_script_and_sql_looking_text_is_stored_and_shown_escaped(api: Api) -> None:
    brand = await api.partner()
    title = "<script>alert('x')</script>'; DROP TABLE drops; --"
    drop = await api.create_drop(brand, title=title, description="<img src=x onerror=alert(1)>")
    assert (await api.client.get(f"/api/v1/drops/{drop['id']}")).json()["title"] == title
    page = (await api.client.get("/")).text
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert len((await api.client.get("/api/v1/drops")).json()) == 1


async def test_security_headers(api: Api) -> None:
    page = await api.client.get("/")
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    api_response = await api.client.get("/api/v1/drops")
    assert api_response.headers["x-content-type-options"] == "nosniff"
    docs = await api.client.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text.lower()
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]
