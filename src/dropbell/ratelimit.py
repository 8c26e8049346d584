"""Rate limits: fixed-window counters per rule and caller, 429 with Retry-After.

Counters live in this process's memory, or in Redis when DROPBELL_REDIS_URL is set
(then every API process shares them). A rule is written ``N/SECONDS`` (``30/60``:
thirty per minute) or ``off``.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

from fastapi import Depends, Request

from dropbell import errors
from dropbell.accounts.deps import current_caller, current_viewer
from dropbell.accounts.service import Caller, Viewer
from dropbell.rules import Rule


class Counter(Protocol):
    async def hit(self, key: str, rule: Rule, now: float) -> float | None:
        """Count one hit; return the seconds to wait if over the limit, else None."""
        ...


class MemoryCounter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window end, hits)

    async def hit(self, key: str, rule: Rule, now: float) -> float | None:
        end = (int(now // rule.seconds) + 1) * rule.seconds
        stored_end, hits = self._windows.get(key, (end, 0))
        hits = hits + 1 if stored_end == end else 1
        self._windows[key] = (end, hits)
        if len(self._windows) > 100_000:
            self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
        return end - now if hits > rule.limit else None


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
