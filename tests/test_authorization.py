"""The authorisation matrix: every endpoint by every kind of caller, the exact status each gets.

Callers: anonymous, shopper (in the rollout), ineligible shopper (outside it), another
shopper, partner (owns the drop), another partner. The resources (a drop owned by
the partner, a notification of the shopper's, a post of the shopper's) are made
fresh for every caller, so a mutating call by one caller cannot change what the next
one sees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from dropbell.reminders.scheduler import Scheduler
from tests.helpers import Api, User, iso

pytestmark = pytest.mark.anyio

ROLES = ("anonymous", "shopper", "ineligible", "other_shopper", "partner", "other_partner")


@dataclass
class World:
    users: dict[str, User | None]
    drop: dict[str, Any]
    notification_id: int
    post_id: int
    api: Api


async def _world(api: Api, scheduler: Scheduler) -> World:
    partner = await api.partner(domains=("shop.example",))
    other_partner = await api.partner(domains=("shop.example",))
    shopper = await api.signup()
    ineligible = await api.signup(platform="android")
    other_shopper = await api.signup()
    drop = await api.create_drop(partner, in_=timedelta(hours=1))
    soon = await api.create_drop(partner, in_=timedelta(minutes=10))  # a notice for the shopper
    await api.remind(shopper, soon["id"])
    api.clock.advance(timedelta(minutes=10))
    await scheduler.run_due()
    api.clock.advance(-timedelta(minutes=10))
    (note,) = await api.inbox(shopper)
    r = await api.client.post(
        "/api/v1/posts", headers=shopper.headers, json={"text": f"Can't wait #{drop['tag']}"}
    )
    assert r.status_code == 201, r.text
    return World(
        users={
            "anonymous": None,
            "shopper": shopper,
            "ineligible": ineligible,
            "other_shopper": other_shopper,
            "partner": partner,
            "other_partner": other_partner,
        },
        drop=drop,
        notification_id=note["id"],
        post_id=r.json()["id"],
        api=api,
    )


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # {drop} and {notification} are filled in
    expect: dict[str, int]  # role -> status
    body: Callable[[World], Any] | None = None


def _all(status: int, **overrides: int) -> dict[str, int]:
    return {role: overrides.get(role, status) for role in ROLES}


def _signed_in(status: int, **overrides: int) -> dict[str, int]:
    return _all(status, anonymous=401, **overrides)


def _drop_body(world: World) -> dict[str, Any]:
    return {
        "title": "New",
        "launch_at": iso(world.api.clock.now() + timedelta(hours=2)),
        "shop_url": "https://shop.example/new",
        "tag": f"new{world.drop['id']}x{len(world.users)}",
    }


OWNER_ONLY = _signed_in(403, partner=200)
PARTNERS_ONLY = _signed_in(403, partner=201, other_partner=201)

CALLS = [
    Call("GET", "/api/v1/accounts/me", _signed_in(200)),
    Call("POST", "/api/v1/auth/revoke", _signed_in(200)),
    Call("GET", "/api/v1/drops", _all(200)),
    Call("GET", "/api/v1/drops/{drop}", _all(200)),
    Call("POST", "/api/v1/drops", PARTNERS_ONLY, _drop_body),
    Call("PATCH", "/api/v1/drops/{drop}", OWNER_ONLY, lambda w: {"title": "Renamed"}),
    Call("POST", "/api/v1/drops/{drop}/cancel", OWNER_ONLY),
    Call("GET", "/api/v1/drops/{drop}/stats", OWNER_ONLY),
    Call("GET", "/api/v1/drops/{drop}/stats.csv", OWNER_ONLY),
    # Partners log in from the web here, outside the default rollout (iOS).
    Call(
        "POST",
        "/api/v1/drops/{drop}/remind",
        _signed_in(200, ineligible=403, partner=403, other_partner=403),
    ),
    Call("POST", "/api/v1/drops/{drop}/unremind", _signed_in(200)),
    Call("GET", "/drops/{drop}/shop?source=post", _all(302)),
    Call("GET", "/api/v1/notifications", _signed_in(200)),
    Call("GET", "/api/v1/notifications/unread_count", _signed_in(200)),
    Call("POST", "/api/v1/notifications/read_all", _signed_in(200)),
    Call("POST", "/api/v1/notifications/{notification}/read", _signed_in(404, shopper=200)),
    Call("GET", "/api/v1/drops/{drop}/calendar.ics", _all(200)),
    Call("POST", "/api/v1/posts", _signed_in(201), lambda w: {"text": "Hello #drops"}),
    Call("GET", "/api/v1/posts/{post}", _all(200)),
    Call("DELETE", "/api/v1/posts/{post}", _signed_in(403, shopper=200)),
    # A drop's announcement goes with its drop: even its brand cannot delete it alone.
    Call("DELETE", "/api/v1/posts/{drop_post}", _signed_in(403, partner=409)),
    *(
        Call("POST", f"/api/v1/posts/{{post}}/{verb}", _signed_in(200))
        for verb in ("like", "unlike", "repost", "unrepost", "bookmark", "unbookmark")
    ),
    Call("POST", "/api/v1/posts/{post}/share", _all(200)),
    Call("GET", "/api/v1/bookmarks", _signed_in(200)),
    Call("GET", "/api/v1/timelines/public", _all(200)),
    Call("GET", "/api/v1/tags/{tag}", _all(200)),
    Call("GET", "/api/v1/accounts/{brand_name}", _all(200)),
    # Following is for anyone signed in, but a brand cannot follow itself (422).
    Call("POST", "/api/v1/accounts/{brand}/follow", _signed_in(200, partner=422)),
    Call("POST", "/api/v1/accounts/{brand}/unfollow", _signed_in(200)),
    # The event stream never ends, so it has its own tests (tests/web/test_stream.py).
]


@pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c.method} {c.path}")
async def test_every_caller_gets_exactly_the_status_it_should(
    api: Api, scheduler: Scheduler, call: Call
) -> None:
    got = {}
    shared = None if call.method != "GET" else await _world(api, scheduler)  # reads change nothing
    for role in ROLES:
        world = shared or await _world(api, scheduler)
        user = world.users[role]
        if role in ("partner", "other_partner") and user is not None:
            # A brand on a laptop: log in again from the web.
            r = await api.client.post(
                "/api/v1/auth/token",
                json={
                    "username": user.username,
                    "password": "correct horse battery",
                    "platform": "web",
                },
            )
            user = User(user.id, user.username, r.json()["access_token"])
        path = call.path.format(
            drop=world.drop["id"],
            notification=world.notification_id,
            post=world.post_id,
            drop_post=world.drop["post_id"],
            tag=world.drop["tag"],
            brand=world.drop["brand"]["id"],
            brand_name=world.drop["brand"]["username"],
        )
        r = await api.client.request(
            call.method,
            path,
            headers=user.headers if user else {},
            json=call.body(world) if call.body else None,
        )
        got[role] = r.status_code
        if r.status_code >= 400:
            assert set(r.json()) >= {"error", "code"}
    assert got == call.expect


async def test_a_removed_partner_is_refused_as_a_brand_in_the_api_and_the_web(api: Api) -> None:
    """After `dropbell partner remove` the brand's drops stay, but it can no longer edit,
    reschedule, cancel or read the stats of them: 403 `not_partner`, in both front doors."""
    from dropbell.accounts import service as accounts
    from dropbell.db import transaction

    brand = await api.partner()
    drop = await api.create_drop(brand, in_=timedelta(hours=2))
    await api.client.get("/login")  # the web console, logged in as the brand
    form = {
        "username": brand.username,
        "password": "correct horse battery",
        "csrf_token": api.client.cookies["dropbell_csrf"],
    }
    assert (await api.client.post("/login", data=form)).status_code == 303
    csrf = {"csrf_token": api.client.cookies["dropbell_csrf"]}
    assert (await api.client.get(f"/console/drops/{drop['id']}")).status_code == 200
    async with transaction(api.app.state.sessionmaker) as session:
        await accounts.remove_partner(session, brand.username)  # what the CLI runs

    later = iso(api.clock.now() + timedelta(hours=3))
    for method, path, body in (
        ("PATCH", f"/api/v1/drops/{drop['id']}", {"title": "Renamed"}),
        ("PATCH", f"/api/v1/drops/{drop['id']}", {"launch_at": later}),
        ("POST", f"/api/v1/drops/{drop['id']}/cancel", None),
        ("GET", f"/api/v1/drops/{drop['id']}/stats", None),
        ("GET", f"/api/v1/drops/{drop['id']}/stats.csv", None),
        ("POST", "/api/v1/drops", _drop_body(World({}, drop, 0, 0, api))),
    ):
        r = await api.client.request(method, path, json=body, headers=brand.headers)
        assert (r.status_code, r.json()["code"]) == (403, "not_partner"), (method, path, r.text)
    for method, path in (
        ("GET", "/console"),
        ("GET", f"/console/drops/{drop['id']}"),
        ("GET", f"/console/drops/{drop['id']}/stats.csv"),
        ("GET", f"/console/drops/{drop['id']}/edit"),
        ("POST", f"/console/drops/{drop['id']}/edit"),
        ("POST", f"/console/drops/{drop['id']}/cancel"),
    ):
        fields = {**csrf, "title": "Renamed", "launch_at": "", "shop_url": drop["shop_url"]}
        r = await api.client.request(method, path, data=fields if method == "POST" else None)
        assert r.status_code == 403, (method, path, r.text)
    shown = (await api.client.get(f"/api/v1/drops/{drop['id']}")).json()
    assert (shown["title"], shown["launch_at"], shown["status"]) == (
        drop["title"],
        drop["launch_at"],
        "scheduled",
    )
