"""Issue 11, the accounts side: log-in limits and back-off, the rate-limit store's bounds,
forwarded headers, password rules, password change, log out everywhere, idle tokens,
secrets kept out of logs, and CSRF tokens tied to the session."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import event, select, text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from dropbell import cli
from dropbell.accounts import service as accounts
from dropbell.accounts.models import AccessToken, Account
from dropbell.app import create_app
from dropbell.clock import FakeClock
from dropbell.config import Settings
from dropbell.db import transaction
from dropbell.ratelimit import MemoryCounter
from dropbell.rules import Rule
from tests.helpers import Api

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery"


def _signup_body(username: str, password: str = PASSWORD) -> dict[str, str]:
    return {"username": username, "password": password, "country": "US", "language": "en"}


async def _token(api: Api, username: str, password: str = PASSWORD) -> httpx.Response:
    return await api.client.post(
        "/api/v1/auth/token",
        json={"username": username, "password": password, "platform": "ios"},
    )


def _csrf(client: httpx.AsyncClient) -> str:
    return client.cookies["dropbell_csrf"]


async def _web_login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> httpx.Response:
    await client.get("/login")  # sets the CSRF cookie
    return await client.post(
        "/login", data={"username": username, "password": password, "csrf_token": _csrf(client)}
    )


@pytest.fixture
async def other_browser(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser on the same app (its own cookies)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dropbell.test") as c:
        yield c


# -- 1. web log-in and sign-up limits, the per-username back-off ---------------------


async def test_web_log_in_counts_against_the_api_log_in_limit(api: Api) -> None:
    await api.signup("target")
    api.app.state.settings.rate_limit_token = "4/300"
    api.app.state.settings.login_backoff_max_seconds = 0  # only the per-address limit here
    assert (await _token(api, "target", "guess0")).status_code == 401
    assert (await _token(api, "target", "guess1")).status_code == 401
    assert (await _web_login(api.client, "target", "guess2")).status_code == 401
    assert (await _web_login(api.client, "target", "guess3")).status_code == 401
    page = await _web_login(api.client, "target", PASSWORD)
    assert page.status_code == 429 and 1 <= int(page.headers["retry-after"]) <= 300
    assert "Too many requests" in page.text and 'action="/login"' in page.text
    assert (await _token(api, "target")).status_code == 429
    api.clock.advance(timedelta(minutes=5))
    assert (await _web_login(api.client, "target")).status_code == 303


async def test_web_sign_up_counts_against_the_api_sign_up_limit(api: Api) -> None:
    api.app.state.settings.rate_limit_signup = "2/3600"
    assert (await api.client.post("/api/v1/accounts", json=_signup_body("bot0"))).status_code == 201
    await api.client.get("/signup")
    form = {**_signup_body("bot1"), "timezone": "UTC", "csrf_token": _csrf(api.client)}
    assert (await api.client.post("/signup", data=form)).status_code == 303
    api.client.cookies.clear()
    await api.client.get("/signup")
    form = {**_signup_body("bot2"), "timezone": "UTC", "csrf_token": _csrf(api.client)}
    page = await api.client.post("/signup", data=form)
    assert page.status_code == 429 and 1 <= int(page.headers["retry-after"]) <= 3600
    assert "Too many requests" in page.text and 'value="bot2"' in page.text
    assert (await api.client.post("/api/v1/accounts", json=_signup_body("bot3"))).status_code == 429
    assert (await _token(api, "bot2")).status_code == 401  # nothing was created


async def test_wrong_passwords_back_off_per_username_briefly(api: Api) -> None:
    await api.signup("target")
    await api.signup("bystander")
    settings = api.app.state.settings
    assert (settings.login_backoff_after, settings.login_backoff_max_seconds) == (5, 60)
    for i in range(5):
        assert (await _token(api, "target", f"guess{i}")).status_code == 401
    # Now even the right password waits (it is not even checked): 1 s, then 2, 4 …
    r = await _token(api, "TARGET")
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert r.headers["retry-after"] == "1" and "wrong passwords" in r.json()["error"]
    page = await _web_login(api.client, "target")
    assert page.status_code == 429 and "Too many wrong passwords" in page.text
    assert (await _token(api, "bystander")).status_code == 200  # others are not affected
    waits = []
    for i in range(10):
        api.clock.advance(timedelta(seconds=60))
        assert (await _token(api, "target", f"more{i}")).status_code == 401
        waits.append(int((await _token(api, "target")).headers["retry-after"]))
    assert waits == [2, 4, 8, 16, 32, 60, 60, 60, 60, 60]  # capped at a minute
    api.clock.advance(timedelta(seconds=60))
    assert (await _web_login(api.client, "target")).status_code == 303  # the owner gets in
    # A success starts it over: the next wrong password is an ordinary 401.
    assert (await _token(api, "target", "oops")).status_code == 401
    assert (await _token(api, "target")).status_code == 200


async def test_failed_web_log_ins_count_in_the_same_back_off(api: Api) -> None:
    await api.signup("target")
    for i in range(5):
        assert (await _web_login(api.client, "target", f"guess{i}")).status_code == 401
    assert (await _token(api, "target")).status_code == 429
    api.clock.advance(timedelta(seconds=1))
    assert (await _token(api, "target")).status_code == 200


# -- 2. the in-memory rate-limit store --------------------------------------------------


async def test_the_memory_store_stays_bounded_and_correct_past_100k_keys(api: Api) -> None:
    counter = api.app.state.rate_counter
    assert isinstance(counter, MemoryCounter)
    rule = Rule(limit=3, seconds=3600)
    now = api.clock.now().timestamp()
    hot: list[float | None] = []
    for i in range(101_000):
        await counter.hit(f"signup:10.{i // 65536}.{i // 256 % 256}.{i % 256}", rule, now)
        if i % 20_000 == 0:  # a caller still counting while the table fills
            hot.append(await counter.hit("signup:hot", rule, now))
    assert len(counter._windows) <= counter._windows.max_keys == 100_000
    assert hot[:3] == [None, None, None] and all(w is not None for w in hot[3:])
    # Through the app: the limit still holds for a new address.
    api.app.state.settings.rate_limit_signup = "2/3600"
    codes = [
        (await api.client.post("/api/v1/accounts", json=_signup_body(f"bot{i}"))).status_code
        for i in range(3)
    ]
    assert codes == [201, 201, 429]
    # Expired windows go as new ones come, a bounded amount of work per request.
    api.clock.advance(timedelta(hours=2))
    later = api.clock.now().timestamp()
    before = len(counter._windows)
    for i in range(1000):
        assert await counter.hit(f"signup:new{i}", rule, later) is None
    assert len(counter._windows) == before - 1000
    assert (await api.client.post("/api/v1/accounts", json=_signup_body("bot3"))).status_code == 201


# -- 3. forwarded headers --------------------------------------------------------------


async def test_x_forwarded_for_is_not_believed_by_default(api: Api) -> None:
    api.app.state.settings.rate_limit_signup = "2/3600"
    codes = [
        (
            await api.client.post(
                "/api/v1/accounts",
                json=_signup_body(f"bot{i}"),
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            )
        ).status_code
        for i in range(3)
    ]
    assert codes == [201, 201, 429]  # the test client is 127.0.0.1: loopback is no proxy


@pytest.mark.parametrize(
    ("proxies", "hops"),
    [("127.0.0.1", ""), ("10.0.0.0/8, 127.0.0.0/8", ", 10.1.2.3")],  # a chain of proxies
)
async def test_x_forwarded_for_is_believed_from_trusted_proxies(
    settings: Settings, clock: FakeClock, proxies: str, hops: str
) -> None:
    trusted = settings.model_copy(update={"trusted_proxies": proxies, "rate_limit_signup": "2/60"})
    app = create_app(trusted, clock)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://dropbell.test") as c:
            for i in range(3):  # three clients behind the proxy
                headers = {"X-Forwarded-For": f"203.0.113.{i}{hops}"}
                r = await c.post("/api/v1/accounts", json=_signup_body(f"aa{i}"), headers=headers)
                assert r.status_code == 201, r.text
            codes = [
                (
                    await c.post(
                        "/api/v1/accounts",
                        json=_signup_body(f"bb{i}"),
                        headers={"X-Forwarded-For": "203.0.113.9"},
                    )
                ).status_code
                for i in range(3)
            ]
            assert codes == [201, 201, 429]
    finally:
        await app.state.engine.dispose()


async def test_only_the_listed_proxies_are_believed(settings: Settings, clock: FakeClock) -> None:
    other = settings.model_copy(
        update={"trusted_proxies": "10.0.0.0/8", "rate_limit_signup": "1/60"}
    )
    app = create_app(other, clock)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://dropbell.test") as c:
            codes = [
                (
                    await c.post(
                        "/api/v1/accounts",
                        json=_signup_body(f"cc{i}"),
                        headers={"X-Forwarded-For": f"203.0.113.{i}"},
                    )
                ).status_code
                for i in range(2)
            ]
            assert codes == [201, 429]
    finally:
        await app.state.engine.dispose()


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    assert Settings(trusted_proxies="10.0.0.0/8, ::1").trusted_proxy_list == ["10.0.0.0/8", "::1"]
    assert Settings().trusted_proxy_list == []
    with pytest.raises(ValidationError):
        Settings(trusted_proxies="proxy.example")


def test_serve_leaves_forwarded_headers_to_the_app(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import uvicorn

    seen: dict[str, Any] = {}

    async def no_schema(settings: Settings, wait_seconds: float = 30) -> None:
        return None

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw))
    monkeypatch.setattr(cli, "prepare_schema", no_schema)
    url = f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"
    result = CliRunner().invoke(cli.app, ["serve", "--database-url", url, "--no-scheduler"])
    assert result.exit_code == 0, result.output
    assert seen["proxy_headers"] is False  # uvicorn's default would trust 127.0.0.1


# -- 4. passwords, password change, log out everywhere, idle tokens ---------------------


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("maya", "password"),
        ("maya", "Password1"),
        ("maya", " iloveyou "),
        ("maya_chen", "MAYA_CHEN"),
        ("longname1", "longname1"),
    ],
)
async def test_common_passwords_and_the_username_are_refused(
    api: Api, username: str, password: str
) -> None:
    r = await api.client.post("/api/v1/accounts", json=_signup_body(username, password))
    assert r.status_code == 422 and r.json()["code"] == "invalid", r.text
    assert "password" in r.json()["error"]
    await api.client.get("/signup")
    form = {**_signup_body(username, password), "timezone": "UTC", "csrf_token": _csrf(api.client)}
    page = await api.client.post("/signup", data=form)
    assert page.status_code == 422 and 'id="e-password"' in page.text
    assert (await _token(api, username, password)).status_code == 401


async def test_a_password_that_is_not_common_is_accepted(api: Api) -> None:
    r = await api.client.post("/api/v1/accounts", json=_signup_body("maya", "maya's own 4x!"))
    assert r.status_code == 201, r.text


@pytest.fixture
def revoked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, list[int] | None]]:
    """What was published to end live streams: (account id, token ids or None)."""
    calls: list[tuple[int, list[int] | None]] = []
    real = accounts.publish.sessions_revoked

    def spy(session: Any, account_id: int, token_ids: Any = None) -> None:
        calls.append((account_id, None if token_ids is None else sorted(token_ids)))
        real(session, account_id, token_ids)

    monkeypatch.setattr(accounts.publish, "sessions_revoked", spy)
    return calls


async def _token_ids(api: Api, account_id: int) -> list[int]:
    async with transaction(api.app.state.sessionmaker) as session:
        return list(
            await session.scalars(
                select(AccessToken.id).where(AccessToken.account_id == account_id)
            )
        )


async def test_changing_the_password_logs_out_the_other_sessions(
    api: Api, other_browser: httpx.AsyncClient, revoked: list[Any]
) -> None:
    maya = await api.signup("maya")
    phone = (await _token(api, "maya")).json()["access_token"]
    assert (await _web_login(other_browser, "maya")).status_code == 303
    change = {"current_password": "not it", "new_password": "a brand new secret"}
    r = await api.client.post("/api/v1/auth/password", json=change, headers=maya.headers)
    assert r.status_code == 403 and r.json()["code"] == "wrong_password"
    for bad in ("password1", "MAYA"):
        change = {"current_password": PASSWORD, "new_password": bad}
        r = await api.client.post("/api/v1/auth/password", json=change, headers=maya.headers)
        assert r.status_code == 422, r.text
    change = {"current_password": PASSWORD, "new_password": "a brand new secret"}
    r = await api.client.post("/api/v1/auth/password", json=change, headers=maya.headers)
    assert r.status_code == 200 and r.json() == {"revoked": 2}
    assert (await api.client.get("/api/v1/accounts/me", headers=maya.headers)).status_code == 200
    gone = {"Authorization": f"Bearer {phone}"}
    assert (await api.client.get("/api/v1/accounts/me", headers=gone)).status_code == 401
    assert 'action="/login"' in (await other_browser.get("/settings", follow_redirects=True)).text
    assert (await _token(api, "maya")).status_code == 401
    assert (await _token(api, "maya", "a brand new secret")).status_code == 200
    ids = sorted(await _token_ids(api, maya.id))  # this one first, then the phone's and web's
    assert revoked == [(maya.id, ids[1:3])]


async def test_wrong_current_passwords_count_in_the_back_off(api: Api) -> None:
    maya = await api.signup("maya")
    change = {"current_password": "guess", "new_password": "a brand new secret"}
    for _ in range(5):
        r = await api.client.post("/api/v1/auth/password", json=change, headers=maya.headers)
        assert r.status_code == 403
    r = await api.client.post("/api/v1/auth/password", json=change, headers=maya.headers)
    assert r.status_code == 429 and r.headers["retry-after"] == "1"


async def test_log_out_everywhere_revokes_every_token_and_session(
    api: Api, other_browser: httpx.AsyncClient, revoked: list[Any]
) -> None:
    maya = await api.signup("maya")
    other = await api.signup("other")
    phone = {"Authorization": f"Bearer {(await _token(api, 'maya')).json()['access_token']}"}
    assert (await _web_login(other_browser, "maya")).status_code == 303
    r = await api.client.post("/api/v1/auth/revoke_all", headers=maya.headers)
    assert r.status_code == 200 and r.json() == {"revoked": 3}
    for headers in (maya.headers, phone):
        assert (await api.client.get("/api/v1/accounts/me", headers=headers)).status_code == 401
    r = await other_browser.get("/settings")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert (await api.client.get("/api/v1/accounts/me", headers=other.headers)).status_code == 200
    assert revoked == [(maya.id, None)]  # every live stream of the account ends


async def test_the_web_profile_changes_the_password_and_logs_out_everywhere(
    api: Api, other_browser: httpx.AsyncClient, revoked: list[Any]
) -> None:
    maya = await api.signup("maya")
    assert (await _web_login(api.client, "maya")).status_code == 303
    assert (await _web_login(other_browser, "maya")).status_code == 303
    page = await api.client.get("/settings")
    assert 'action="/settings/password"' in page.text and 'action="/logout_everywhere"' in page.text
    form = {
        "current_password": "wrong",
        "new_password": "a brand new secret",
        "csrf_token": _csrf(api.client),
    }
    page = await api.client.post("/settings/password", data=form)
    assert page.status_code == 403 and 'id="e-current_password"' in page.text
    form = {**form, "current_password": PASSWORD, "new_password": "qwertyuiop"}
    page = await api.client.post("/settings/password", data=form)
    assert page.status_code == 422 and 'id="e-new_password"' in page.text
    form = {**form, "new_password": "a brand new secret"}
    r = await api.client.post("/settings/password", data=form)
    assert r.status_code == 303 and r.headers["location"] == "/settings?password_changed=1"
    assert "Password changed" in (await api.client.get(r.headers["location"])).text
    assert (await other_browser.get("/settings")).status_code == 303  # logged out
    assert (await api.client.get("/api/v1/accounts/me", headers=maya.headers)).status_code == 401
    r = await api.client.post("/logout_everywhere", data={"csrf_token": _csrf(api.client)})
    assert r.status_code == 303
    assert (await api.client.get("/settings")).status_code == 303  # this browser too
    assert revoked[-1] == (maya.id, None)
    assert (await _token(api, "maya", "a brand new secret")).status_code == 200


async def test_tokens_expire_after_the_idle_time(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand, in_=timedelta(days=400))
    maya = await api.signup()
    assert api.app.state.settings.token_idle_days == 30
    for _ in range(3):  # used every 29 days: stays
        api.clock.advance(timedelta(days=29))
        r = await api.client.get("/api/v1/accounts/me", headers=maya.headers)
        assert r.status_code == 200
    api.clock.advance(timedelta(days=29))
    assert (await api.remind(maya, drop["id"])).status_code == 200  # the hot path notes use too
    api.clock.advance(timedelta(days=30, seconds=1))
    assert (await api.client.get("/api/v1/accounts/me", headers=maya.headers)).status_code == 401
    assert (await api.remind(maya, drop["id"])).status_code == 401
    assert (
        await api.client.get("/api/v1/streaming/notifications", headers=maya.headers)
    ).status_code == 401


async def test_last_use_is_one_update_at_most_once_an_hour(api: Api) -> None:
    maya = await api.signup()
    writes: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SELECT", "BEGIN", "PRAGMA")):
            writes.append(statement)

    engine = api.app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for _ in range(3):
            api.clock.advance(timedelta(minutes=15))
            assert (
                await api.client.get("/api/v1/notifications", headers=maya.headers)
            ).status_code == 200
        assert writes == []  # issued 45 minutes ago: not yet
        api.clock.advance(timedelta(minutes=16))
        used_at = api.clock.now()
        for _ in range(2):
            assert (
                await api.client.get("/api/v1/notifications", headers=maya.headers)
            ).status_code == 200
        assert len(writes) == 1 and writes[0].lstrip().upper().startswith("UPDATE ACCESS_TOKENS")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    async with transaction(api.app.state.sessionmaker) as session:
        token = await session.scalar(select(AccessToken).where(AccessToken.account_id == maya.id))
        assert token is not None and token.last_used_at == used_at


# -- 8. no secrets in logs ---------------------------------------------------------------


async def test_a_failed_insert_does_not_log_the_password_hash(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    maya = await api.signup("maya")
    async with transaction(api.app.state.sessionmaker) as session:
        password_hash = await session.scalar(
            select(Account.password_hash).where(Account.id == maya.id)
        )
    assert password_hash and password_hash.startswith("$argon2")
    with pytest.raises(IntegrityError) as failed:
        async with transaction(api.app.state.sessionmaker) as session:
            session.add(
                Account(
                    username="maya",
                    password_hash=password_hash,
                    display_name="Maya",
                    country="US",
                    language="en",
                    timezone="UTC",
                    is_partner=False,
                    created_at=api.clock.now(),
                )
            )
            await session.flush()
    logging.getLogger("dropbell").error("insert failed", exc_info=failed.value)
    assert "insert failed" in caplog.text and "INSERT INTO accounts" in caplog.text
    assert password_hash not in caplog.text and password_hash not in str(failed.value)
    assert "hide_parameters" in str(failed.value)
    token_hash = (await _token_hashes(api))[0]
    assert token_hash not in caplog.text


async def _token_hashes(api: Api) -> list[str]:
    async with api.app.state.engine.connect() as conn:
        return list((await conn.execute(text("SELECT token_hash FROM access_tokens"))).scalars())


# -- 10. CSRF tied to the session, Origin: null refused ----------------------------------


async def test_the_csrf_token_is_tied_to_the_session(
    api: Api, other_browser: httpx.AsyncClient
) -> None:
    await api.signup("maya")
    await api.signup("mallory")
    await api.client.get("/login")
    before_login = _csrf(api.client)
    assert (await _web_login(api.client, "maya")).status_code == 303
    assert (await _web_login(other_browser, "mallory")).status_code == 303
    mallorys = _csrf(other_browser)
    for token in (before_login, mallorys):
        r = await api.client.post("/notifications/read_all", data={"csrf_token": token})
        assert r.status_code == 403 and "expired" in r.text
    # A cookie and form field the attacker chose together (double submit) do not pass.
    api.client.cookies.set("dropbell_csrf", "x" * 32, domain="dropbell.test")
    r = await api.client.post("/notifications/read_all", data={"csrf_token": "x" * 32})
    assert r.status_code == 403
    page = await api.client.get("/settings")  # the page carries the session's own token
    own = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = await api.client.post("/notifications/read_all", data={"csrf_token": own})
    assert r.status_code == 303
    r = await api.client.post(
        "/notifications/read_all", headers={"X-CSRF-Token": own, "X-Fragment": "1"}
    )
    assert r.status_code == 303


async def test_origin_null_is_refused(api: Api) -> None:
    await api.signup("maya")
    assert (await _web_login(api.client, "maya")).status_code == 303
    form = {"csrf_token": _csrf(api.client)}
    r = await api.client.post("/notifications/read_all", data=form, headers={"Origin": "null"})
    assert r.status_code == 403 and "Cross-site" in r.text
    r = await api.client.post(
        "/notifications/read_all", data=form, headers={"Origin": "http://dropbell.test"}
    )
    assert r.status_code == 303
    await api.client.get("/login")
    guest = {"username": "maya", "password": PASSWORD, "csrf_token": _csrf(api.client)}
    r = await api.client.post("/login", data=guest, headers={"Origin": "null"})
    assert r.status_code == 403
