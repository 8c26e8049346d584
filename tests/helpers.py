"""Test helpers that act as a user would: through the HTTP API (and the operator's CLI service)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from dropbell.accounts import service as accounts
from dropbell.clock import FakeClock
from dropbell.db import transaction

_names = itertools.count(1)


@dataclass
class User:
    id: int
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


class Api:
    def __init__(self, client: httpx.AsyncClient, app: Any, clock: FakeClock) -> None:
        self.client = client
        self.app = app
        self.clock = clock

    async def signup(
        self,
        username: str | None = None,
        *,
        country: str = "US",
        language: str = "en",
        platform: str = "ios",
        timezone: str = "America/New_York",
    ) -> User:
        username = username or f"shopper{next(_names)}"
        r = await self.client.post(
            "/api/v1/accounts",
            json={
                "username": username,
                "password": "correct horse battery",
                "country": country,
                "language": language,
                "timezone": timezone,
            },
        )
        assert r.status_code == 201, r.text
        r = await self.client.post(
            "/api/v1/auth/token",
            json={"username": username, "password": "correct horse battery", "platform": platform},
        )
        assert r.status_code == 200, r.text
        body = r.json()
        return User(id=body["account"]["id"], username=username.lower(), token=body["access_token"])

    async def partner(
        self, username: str | None = None, domains: tuple[str, ...] = ("shop.example",)
    ) -> User:
        user = await self.signup(username or f"brand{next(_names)}")
        async with transaction(self.app.state.sessionmaker) as session:
            await accounts.approve_partner(session, user.username, list(domains))
        return user

    async def create_drop(
        self, brand: User, *, in_: timedelta = timedelta(hours=1), **fields: Any
    ) -> dict[str, Any]:
        body = {
            "title": "Test sneaker",
            "description": "A shoe.",
            "price": "120.00",
            "currency": "USD",
            "launch_at": iso(self.clock.now() + in_),
            "shop_url": "https://shop.example/sneaker",
            "tag": f"drop{next(_names)}",
        }
        body.update(fields)
        r = await self.client.post("/api/v1/drops", json=body, headers=brand.headers)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    async def remind(self, user: User, drop_id: int) -> httpx.Response:
        return await self.client.post(f"/api/v1/drops/{drop_id}/remind", headers=user.headers)

    async def inbox(self, user: User, **params: Any) -> list[dict[str, Any]]:
        r = await self.client.get("/api/v1/notifications", headers=user.headers, params=params)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    async def metrics(self) -> str:
        """What Prometheus scrapes (with the metrics token the test settings hold)."""
        r = await self.client.get(
            "/metrics", headers={"Authorization": "Bearer metrics-test-token"}
        )
        assert r.status_code == 200, r.text
        return r.text

    async def types(self, user: User) -> list[str]:
        """The user's notification types, oldest first."""
        return [n["type"] for n in reversed(await self.inbox(user, limit=80))]


async def remind_with(api: Api, user: User, drop_id: int, offsets: list[int]) -> httpx.Response:
    """Remind me with a choice of leads (seconds before the launch)."""
    return await api.client.post(
        f"/api/v1/drops/{drop_id}/remind", headers=user.headers, json={"offsets": offsets}
    )
