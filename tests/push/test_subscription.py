"""The push API: the server key and the token's subscription (API.md, Push)."""

from __future__ import annotations

import pytest

from dropbell.push import netcheck
from dropbell.push.keys import b64url_decode
from tests.helpers import Api
from tests.push.helpers import PushApi

pytestmark = pytest.mark.anyio

DEFAULTS = {
    "drop_soon": True,
    "drop_live": True,
    "drop_rescheduled": True,
    "drop_cancelled": True,
    "drop_announced": True,
    "like": False,
    "repost": False,
}


async def test_key_is_made_once_and_kept(api: Api, push: PushApi) -> None:
    key = await push.server_key()
    raw = b64url_decode(key)
    assert len(raw) == 65 and raw[0] == 4
    assert await push.server_key() == key


async def test_subscribe_get_put_delete(api: Api, push: PushApi) -> None:
    key = await push.server_key()
    user = await api.signup()
    device = push.device()
    r = await push.subscribe(user, device)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body == {
        "id": body["id"],
        "endpoint": device.endpoint,
        "alerts": DEFAULTS,
        "server_key": key,
    }

    r = await api.client.get("/api/v1/push/subscription", headers=user.headers)
    assert r.status_code == 200 and r.json() == body

    r = await api.client.put(
        "/api/v1/push/subscription",
        json={"data": {"alerts": {"like": True, "drop_soon": False, "follow": True}}},
        headers=user.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["alerts"] == DEFAULTS | {"like": True, "drop_soon": False}

    r = await api.client.delete("/api/v1/push/subscription", headers=user.headers)
    assert r.status_code == 200 and r.json() == {}
    r = await api.client.get("/api/v1/push/subscription", headers=user.headers)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = await api.client.delete("/api/v1/push/subscription", headers=user.headers)
    assert r.status_code == 200
    r = await api.client.put(
        "/api/v1/push/subscription", json={"data": {"alerts": {}}}, headers=user.headers
    )
    assert r.status_code == 404


async def test_one_subscription_per_token_several_per_account(api: Api, push: PushApi) -> None:
    user = await api.signup()
    first, second = push.device(), push.device()
    a = (await push.subscribe(user, first, {"drop_soon": False})).json()
    b = await push.subscribe(user, second)  # the same token again: replaces
    assert b.status_code == 200
    assert b.json()["id"] == a["id"] and b.json()["endpoint"] == second.endpoint
    assert b.json()["alerts"] == DEFAULTS  # a new POST starts from the defaults

    r = await api.client.post(
        "/api/v1/auth/token",
        json={"username": user.username, "password": "correct horse battery", "platform": "ios"},
    )
    phone = {"Authorization": f"Bearer {r.json()['access_token']}"}
    r = await api.client.post(
        "/api/v1/push/subscription", json={"subscription": first.as_json()}, headers=phone
    )
    assert r.status_code == 200 and r.json()["id"] != a["id"]
    assert await push.subscription_count() == 2


async def test_needs_a_token(api: Api, push: PushApi) -> None:
    device = push.device()
    r = await api.client.post("/api/v1/push/subscription", json={"subscription": device.as_json()})
    assert r.status_code == 401
    assert (await api.client.get("/api/v1/push/subscription")).status_code == 401


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://127.0.0.1/push/x",
        "https://localhost:8443/push/x",
        "https://[::1]/push/x",
        "https://10.1.2.3/push/x",
        "https://172.16.0.9/push/x",
        "https://192.168.1.1/push/x",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/push/x",
        "https://0.0.0.0/push/x",
        "https://224.0.0.1/push/x",
        "https://240.0.0.1/push/x",
        "https://[fe80::1]/push/x",
        "https://[fc00::1]/push/x",
        "https://[ff02::1]/push/x",
        "https://[::ffff:10.0.0.1]/push/x",
        "https://[::]/push/x",
        "http://93.184.216.34/push/x",  # public, but not https
        "ftp://93.184.216.34/push/x",
        "https://user:pw@93.184.216.34/push/x",
        "/push/x",
    ],
)
async def test_refuses_endpoints_that_are_not_public_https(
    api: Api, push: PushApi, endpoint: str
) -> None:
    user = await api.signup()
    device = push.device()
    body = {"subscription": {**device.as_json(), "endpoint": endpoint}}
    r = await api.client.post("/api/v1/push/subscription", json=body, headers=user.headers)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "push_endpoint_refused"
    assert "push endpoint" in r.json()["error"]
    assert await push.subscription_count() == 0


async def test_a_name_is_judged_by_what_it_resolves_to(
    api: Api, push: PushApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = {
        "push.example.net": ["93.184.216.34"],
        "rebind.example.net": ["93.184.216.34", "10.0.0.7"],
    }

    async def resolve(host: str, port: int) -> list[str]:
        if host not in names:
            raise OSError("no such host")
        return names[host]

    monkeypatch.setattr(netcheck, "resolve", resolve)
    user = await api.signup()
    device = push.device()
    for endpoint, status in [
        ("https://push.example.net/w/1", 200),
        ("https://rebind.example.net/w/1", 422),
        ("https://nowhere.example.net/w/1", 422),
        ("https://93.184.216.34:8443/w/1", 200),
    ]:
        body = {"subscription": {**device.as_json(), "endpoint": endpoint}}
        r = await api.client.post("/api/v1/push/subscription", json=body, headers=user.headers)
        assert r.status_code == status, (endpoint, r.text)
    r = await api.client.post(
        "/api/v1/push/subscription",
        json={"subscription": {**device.as_json(), "endpoint": "https://rebind.example.net/w"}},
        headers=user.headers,
    )
    assert "10.0.0.7" in r.json()["error"] and "not a public address" in r.json()["error"]


async def test_allowed_hosts_may_be_local_and_http(api: Api, push: PushApi) -> None:
    """The local push service is on http://127.0.0.1:<port>, listed in the allowed hosts;
    the same address on another port is still refused."""
    user = await api.signup()
    device = push.device()
    assert device.endpoint.startswith("http://127.0.0.1:")
    assert (await push.subscribe(user, device)).status_code == 200
    port = int(push.service.host_port.rsplit(":", 1)[1])
    other = device.endpoint.replace(f":{port}/", f":{port + 1}/")
    body = {"subscription": {**device.as_json(), "endpoint": other}}
    r = await api.client.post("/api/v1/push/subscription", json=body, headers=user.headers)
    assert r.status_code == 422


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("p256dh", "BAAA", "65-byte"),
        ("p256dh", "B" + "A" * 86, "not a point"),
        ("p256dh", "not base64!!", "base64url"),
        ("auth", "AAAA", "16 bytes"),
    ],
)
async def test_validates_keys(
    api: Api, push: PushApi, field: str, value: str, message: str
) -> None:
    user = await api.signup()
    sub = push.device().as_json()
    sub["keys"][field] = value
    r = await api.client.post(
        "/api/v1/push/subscription", json={"subscription": sub}, headers=user.headers
    )
    assert r.status_code == 422, r.text
    assert message in r.json()["error"]
