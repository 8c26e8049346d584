"""Rate limits: fixed-window counters per rule and caller, 429 with Retry-After; and the
log-in back-off, a short exponential wait per username after repeated wrong passwords.

Counters live in this process's memory, or in Redis when DROPBELL_REDIS_URL is set
(then every API process shares them). A rule is written ``N/SECONDS`` (``30/60``:
thirty per minute) or ``off``.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

from fastapi import Depends, Request

from dropbell import errors
from dropbell.accounts.deps import current_caller, current_viewer
from dropbell.accounts.service import Caller, Viewer
from dropbell.rules import Rule

# How long a username's wrong passwords are remembered after the last one.
BACKOFF_FORGET_SECONDS = 15 * 60


class Counter(Protocol):
    async def hit(self, key: str, rule: Rule, now: float) -> float | None:
        """Count one hit; return the seconds to wait if over the limit, else None."""
        ...

    async def backoff_wait(self, key: str, now: float) -> float | None:
        """The seconds ``key`` must still wait after its last failure, else None."""
        ...

    async def backoff_failed(self, key: str, now: float, free: int, cap: float) -> None:
        """One more failure for ``key``: past ``free`` of them, wait 1, 2, 4 … ``cap`` s."""
        ...

    async def backoff_clear(self, key: str) -> None:
        """A success: ``key`` starts over."""
        ...


def backoff_delay(failures: int, free: int, cap: float) -> float:
    """The wait after ``failures`` failures in a row: none for the first ``free``."""
    if failures < free:
        return 0.0
    return float(min(cap, 2.0 ** min(failures - free, 32)))


class ExpiringStore:
    """A bounded map whose entries expire: constant work per call, whatever it holds.

    Entries are kept in the order they were last written (an ``OrderedDict``). Each write
    moves its key to the newest end, then looks at no more than two of the oldest: an
    expired one is dropped, and past ``max_keys`` the oldest is dropped even if live
    (its count starts over; only a caller with more than ``max_keys`` fresh identities
    within one window gets that far). So memory is bounded by ``max_keys`` and no call
    ever walks the table.
    """

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max(1, max_keys)
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str, now: float) -> Any:
        item = self._items.get(key)
        if item is None or item[0] <= now:
            return None
        return item[1]

    def set(self, key: str, value: Any, expires_at: float, now: float) -> None:
        items = self._items
        items.pop(key, None)
        items[key] = (expires_at, value)
        for _ in range(2):
            oldest, (oldest_expiry, _) = next(iter(items.items()))
            if oldest == key or (oldest_expiry > now and len(items) <= self.max_keys):
                break
            del items[oldest]

    def pop(self, key: str) -> None:
        self._items.pop(key, None)


class MemoryCounter:
    def __init__(self, max_keys: int = 100_000) -> None:
        self._windows = ExpiringStore(max_keys)  # key -> hits, until the window's end
        self._backoff = ExpiringStore(max_keys)  # key -> (failures, wait until)

    async def hit(self, key: str, rule: Rule, now: float) -> float | None:
        end = (int(now // rule.seconds) + 1) * rule.seconds
        stored = self._windows.get(key, now)
        hits = stored[1] + 1 if stored is not None and stored[0] == end else 1
        self._windows.set(key, (end, hits), end, now)
        return end - now if hits > rule.limit else None

    async def backoff_wait(self, key: str, now: float) -> float | None:
        stored = self._backoff.get(key, now)
        return stored[1] - now if stored is not None and stored[1] > now else None

    async def backoff_failed(self, key: str, now: float, free: int, cap: float) -> None:
        stored = self._backoff.get(key, now)
        failures = (stored[0] if stored is not None else 0) + 1
        until = now + backoff_delay(failures, free, cap)
        self._backoff.set(key, (failures, until), until + BACKOFF_FORGET_SECONDS, now)

    async def backoff_clear(self, key: str) -> None:
        self._backoff.pop(key)


class RedisCounter:
    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis: Any = Redis.from_url(url)

    async def hit(self, key: str, rule: Rule, now: float) -> float | None:
        window = int(now // rule.seconds)
        name = f"dropbell:rl:{key}:{window}"
        pipe = self._redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, rule.seconds + 1)
        hits, _ = await pipe.execute()
        if int(hits) > rule.limit:
            return (window + 1) * rule.seconds - now
        return None

    async def backoff_wait(self, key: str, now: float) -> float | None:
        until = await self._redis.hget(f"dropbell:bo:{key}", "until")
        return float(until) - now if until is not None and float(until) > now else None

    async def backoff_failed(self, key: str, now: float, free: int, cap: float) -> None:
        name = f"dropbell:bo:{key}"
        failures = int(await self._redis.hincrby(name, "failures", 1))
        until = now + backoff_delay(failures, free, cap)
        pipe = self._redis.pipeline()
        pipe.hset(name, "until", repr(until))
        pipe.expire(name, math.ceil(until - now) + BACKOFF_FORGET_SECONDS)
        await pipe.execute()

    async def backoff_clear(self, key: str) -> None:
        await self._redis.delete(f"dropbell:bo:{key}")


def make_counter(redis_url: str | None) -> Counter:
    return RedisCounter(redis_url) if redis_url else MemoryCounter()


async def check(request: Request, name: str, identity: str) -> None:
    """Count a hit of rule ``name`` for ``identity``; raise 429 if over the limit."""
    rule: Rule | None = request.app.state.settings.rate_rule(name)
    if rule is None:
        return
    now = request.app.state.clock.now().timestamp()
    wait = await request.app.state.rate_counter.hit(f"{name}:{identity}", rule, now)
    if wait is not None:
        retry = max(1, math.ceil(wait))
        raise errors.RateLimited(
            f"Too many requests ({rule.limit} per {rule.seconds} s); try again in {retry} s.",
            headers={"Retry-After": str(retry)},
        )


async def check_account(request: Request, name: str, account_id: int) -> None:
    """Count a hit of rule ``name`` for an account (one count for the API and the web)."""
    await check(request, name, f"a{account_id}")


def _login_key(username: str) -> str:
    return "login:" + username.strip().lower()[:30]


async def check_login_backoff(request: Request, username: str) -> None:
    """429 while ``username`` waits out its back-off (the password is not even checked)."""
    if request.app.state.settings.login_backoff_max_seconds <= 0:
        return
    now = request.app.state.clock.now().timestamp()
    wait = await request.app.state.rate_counter.backoff_wait(_login_key(username), now)
    if wait is not None:
        retry = max(1, math.ceil(wait))
        raise errors.RateLimited(
            f"Too many wrong passwords for this account; try again in {retry} s.",
            headers={"Retry-After": str(retry)},
        )


async def login_failed(request: Request, username: str) -> None:
    """A wrong password for ``username``: its next try may have to wait a little."""
    settings = request.app.state.settings
    if settings.login_backoff_max_seconds <= 0:
        return
    now = request.app.state.clock.now().timestamp()
    await request.app.state.rate_counter.backoff_failed(
        _login_key(username), now, settings.login_backoff_after, settings.login_backoff_max_seconds
    )


async def login_succeeded(request: Request, username: str) -> None:
    if request.app.state.settings.login_backoff_max_seconds > 0:
        await request.app.state.rate_counter.backoff_clear(_login_key(username))


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def limit(name: str, by: Literal["ip", "account", "caller"]) -> Callable[..., Awaitable[None]]:
    """A dependency that applies rule ``name`` per client address or per account.

    ``caller`` is also per account, for routes that work on a plain connection
    (:data:`~dropbell.accounts.deps.CurrentCaller`) instead of the ORM session.
    """
    if by == "ip":

        async def by_ip(request: Request) -> None:
            await check(request, name, client_ip(request))

        return by_ip
    if by == "caller":

        async def by_caller(request: Request, caller: Caller = Depends(current_caller)) -> None:
            await check_account(request, name, caller.account_id)

        return by_caller

    async def by_account(request: Request, viewer: Viewer = Depends(current_viewer)) -> None:
        await check_account(request, name, viewer.account.id)

    return by_account
