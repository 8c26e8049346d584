from __future__ import annotations

import httpx
import pytest

from tests.helpers import Api

pytestmark = pytest.mark.anyio

GOOD = {
    "username": "Maya_Chen",
    "password": "correct horse battery",
    "display_name": "Maya",
    "country": "us",
    "language": "EN",
    "timezone": "America/Los_Angeles",
}


async def test_sign_up_log_in_and_read_me(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/accounts", json=GOOD)
    assert r.status_code == 201, r.text
    account = r.json()
    assert account["username"] == "maya_chen"
    assert (account["country"], account["language"]) == ("US", "en")
    assert account["is_partner"] is False and account["shop_domains"] == []
    assert "password" not in str(account) and "hash" not in str(account)

    r = await client.post(
        "/api/v1/auth/token",
        json={"username": "MAYA_CHEN", "password": GOOD["password"], "platform": "ios"},
    )
    assert r.status_code == 200, r.text
    token = r.json()
    assert token["token_type"] == "bearer"
    me = await client.get(
        "/api/v1/accounts/me", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["timezone"] == "America/Los_Angeles"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"username": "no spaces"}, "username"),
        ({"username": "ab"}, "username"),
        ({"password": "short"}, "password"),
        ({"country": "XX"}, "country"),
        ({"language": "xx"}, "language"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"is_partner": True}, "is_partner"),
    ],
)
async def test_bad_sign_up_is_rejected_and_creates_nothing(
    client: httpx.AsyncClient, change: dict[str, object], where: str
) -> None:
    r = await client.post("/api/v1/accounts", json={**GOOD, **change})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "invalid" and where in body["error"]
    r = await client.post(
        "/api/v1/auth/token",
        json={"username": GOOD["username"], "password": GOOD["password"], "platform": "ios"},
    )
    assert r.status_code == 401


async def test_username_taken_is_a_conflict_whatever_the_case(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/accounts", json=GOOD)).status_code == 201
    r = await client.post("/api/v1/accounts", json={**GOOD, "username": "MAYA_chen"})
    assert r.status_code == 409
    assert r.json()["code"] == "username_taken"


async def test_wrong_password_and_bad_tokens_get_401(api: Api) -> None:
    user = await api.signup("nina")
    r = await api.client.post(
        "/api/v1/auth/token",
        json={"username": "nina", "password": "wrong-password", "platform": "ios"},
    )
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        r = await api.client.get("/api/v1/accounts/me", headers=headers)
        assert r.status_code == 401, headers
        assert r.json()["code"] == "unauthorized"
    assert (await api.client.get("/api/v1/accounts/me", headers=user.headers)).status_code == 200


async def test_platform_must_be_a_known_client(api: Api) -> None:
    await api.signup("omar")
    r = await api.client.post(
        "/api/v1/auth/token",
        json={"username": "omar", "password": "correct horse battery", "platform": "tv"},
    )
    assert r.status_code == 422


async def test_revoked_token_stops_working(api: Api) -> None:
    user = await api.signup()
    assert (await api.client.post("/api/v1/auth/revoke", headers=user.headers)).status_code == 200
    r = await api.client.get("/api/v1/accounts/me", headers=user.headers)
    assert r.status_code == 401


async def test_partner_approval_shows_on_the_account(api: Api) -> None:
    brand = await api.partner("lego_like", domains=("Brick.Example",))
    me = (await api.client.get("/api/v1/accounts/me", headers=brand.headers)).json()
    assert me["is_partner"] is True
    assert me["shop_domains"] == ["brick.example"]
