"""The launch benchmark's reads: shoppers reading their inbox and unread count over HTTP
(``create_app`` behind ``httpx.ASGITransport``), what each read cost, and one shopper
watching their inbox from the due time on, on a thread of its own."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import make_url

from dropbell.config import Settings
from dropbell.tools.bench.common import pct
from dropbell.tools.bench.launch_load import bench_token


@dataclass
class Reads:
    """What one kind of shopper's reads cost: client-measured latency (ms) of each request,
    this process's CPU for each (the app and the client: the SQLite engine runs in it
    too), and the database server's CPU over all of them (PostgreSQL backends)."""

    inbox: list[float] = field(default_factory=list)
    unread: list[float] = field(default_factory=list)
    inbox_cpu: list[float] = field(default_factory=list)
    unread_cpu: list[float] = field(default_factory=list)
    db_cpu_ms: float = 0.0
    saw_once: int = 0
    failures: list[str] = field(default_factory=list)

    def figures(self, prefix: str) -> dict[str, float]:
        requests = len(self.inbox) + len(self.unread)
        return {
            f"{prefix}inbox_p50_ms": round(pct(self.inbox, 0.50), 2),
            f"{prefix}inbox_p99_ms": round(pct(self.inbox, 0.99), 2),
            f"{prefix}inbox_max_ms": round(max(self.inbox), 2),
            f"{prefix}unread_p50_ms": round(pct(self.unread, 0.50), 2),
            f"{prefix}unread_p99_ms": round(pct(self.unread, 0.99), 2),
            f"{prefix}unread_max_ms": round(max(self.unread), 2),
            f"{prefix}inbox_cpu_p50_ms": round(pct(self.inbox_cpu, 0.50), 2),
            f"{prefix}unread_cpu_p50_ms": round(pct(self.unread_cpu, 0.50), 2),
            f"{prefix}db_cpu_ms_per_request": round(self.db_cpu_ms / max(1, requests), 2),
        }


def cpu_reference_ms() -> float:
    """How long a fixed pure-Python loop takes here now (best of 5). A shared machine's
    speed varies with what else its host runs: CPU figures are read against this."""

    def once() -> float:
        t0, total = time.process_time(), 0
        for i in range(2_000_000):
            total += i * i
        return (time.process_time() - t0) * 1000

    return min(once() for _ in range(5))


def _db_cpu_seconds(url: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends of ``url``'s database (0 on
    SQLite, whose work is this process's)."""
    if not url.startswith("postgresql"):
        return 0.0
    import psutil  # type: ignore[import-untyped]

    name = f" {make_url(url).database} "
    total = 0.0
    for proc in psutil.process_iter(["name", "cmdline", "cpu_times"]):
        if proc.info["name"] not in ("postgres", "postmaster") or not proc.info["cpu_times"]:
            continue
        if name in " ".join(proc.info["cmdline"] or []) + " ":
            total += proc.info["cpu_times"].user + proc.info["cpu_times"].system
    return total


class Reader:
    """Shoppers reading over HTTP: ``create_app(settings)`` behind ``httpx.ASGITransport``
    in this process (no server, no sockets), one request at a time."""

    def __init__(self, settings: Settings) -> None:
        import httpx

        from dropbell.app import create_app

        self.settings = settings
        self.app = create_app(settings)
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://bench"
        )

    async def close(self) -> None:
        await self.client.aclose()
        await self.app.state.engine.dispose()

    async def get(self, account: int, path: str) -> tuple[float, float, Any]:
        """(latency ms, this process's CPU ms, the JSON) of one GET as ``account``."""
        headers = {"Authorization": f"Bearer {bench_token(account)}"}
        t0, c0 = time.perf_counter(), time.process_time()
        r = await self.client.get(path, headers=headers)
        elapsed = (time.perf_counter() - t0) * 1000
        cpu = (time.process_time() - c0) * 1000
        if r.status_code != 200:
            raise RuntimeError(f"{path} for {account}: {r.status_code} {r.text[:200]}")
        return elapsed, cpu, r.json()

    async def watch(
        self, account: int, due: datetime, counted: threading.Event, every: float = 0.005
    ) -> Watched:
        """From the due time on, read ``account``'s inbox every ``every`` seconds: when the
        launch (drop 1's ``drop_live``) became visible, and the slowest read before that
        and after it, until the audience was counted (``counted``)."""
        await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
        watched = Watched()
        give_up = float("inf")
        while not (counted.is_set() and watched.reads_after):
            if counted.is_set():  # counted, and still not visible: a little longer, then stop
                give_up = min(give_up, time.monotonic() + 5)
                if time.monotonic() > give_up:
                    break
            ms, _, page = await self.get(account, "/api/v1/notifications?limit=1")
            if watched.visible_ms != watched.visible_ms:  # not yet visible (nan)
                watched.reads += 1
                watched.slowest_ms = max(watched.slowest_ms, ms)
                if page and page[0]["type"] == "drop_live" and (page[0]["drop"] or {})["id"] == 1:
                    watched.visible_ms = (time.time() - due.timestamp()) * 1000
            else:
                watched.reads_after += 1
                watched.slowest_after_ms = max(watched.slowest_after_ms, ms)
            await asyncio.sleep(every)
        return watched

    async def read_inboxes(
        self, phases: list[tuple[str, list[int]]], notice_id: int, warmup: list[int]
    ) -> dict[str, Reads]:
        """Each account reads its first inbox page, then its unread count, phase by phase;
        the launch notice must be on the page exactly once, first, and counted unread.

        A phase named ``heavy_join`` is the baseline of the heavy shoppers' walk: the
        same reads with the walk turned off, so every page joins all they see."""
        from dropbell.notifications import service as notifications

        reads: dict[str, Reads] = {}
        for account in warmup:
            await self.get(account, "/api/v1/notifications")
            await self.get(account, "/api/v1/notifications/unread_count")
        walk_periods = notifications.WALK_PERIODS
        for kind, accounts in phases:
            got = reads.setdefault(kind, Reads())
            notifications.WALK_PERIODS = None if kind == "heavy_join" else walk_periods
            db0 = _db_cpu_seconds(self.settings.database_url)
            for account in accounts:
                ms, cpu, page = await self.get(account, "/api/v1/notifications")
                got.inbox.append(ms)
                got.inbox_cpu.append(cpu)
                ms, cpu, count = await self.get(account, "/api/v1/notifications/unread_count")
                got.unread.append(ms)
                got.unread_cpu.append(cpu)
                times = sum(1 for item in page if item["id"] == notice_id)
                if times == 1 and page[0]["id"] == notice_id and count["count"] >= 1:
                    got.saw_once += 1
                else:
                    got.failures.append(
                        f"account {account}: launch {times} times on page 1 (first"
                        f" {page[0]['id'] if page else None}), unread {count['count']}"
                    )
            got.db_cpu_ms += (_db_cpu_seconds(self.settings.database_url) - db0) * 1000
        notifications.WALK_PERIODS = walk_periods
        return reads


class Watcher:
    """One shopper reading their inbox from the due time on (``Reader.watch``), on a thread
    with its own event loop."""

    def __init__(
        self, settings: Settings, account: int, warm: int, due: datetime, counted: threading.Event
    ) -> None:
        self._result: Watched | None = None
        self._error: BaseException | None = None

        async def go() -> None:
            reader = Reader(settings)
            try:
                await reader.get(warm, "/api/v1/notifications?limit=1")  # compile, connect
                self._result = await reader.watch(account, due, counted)
            finally:
                await reader.close()

        def run() -> None:
            try:
                asyncio.run(go())
            except BaseException as exc:  # handed to result()
                self._error = exc

        self._thread = threading.Thread(target=run, name="watcher", daemon=True)
        self._thread.start()

    def result(self, timeout: float) -> Watched:
        self._thread.join(timeout)
        if self._error is not None:
            raise self._error
        if self._result is None:
            raise TimeoutError("the watching shopper never finished")
        return self._result


@dataclass
class Watched:
    """One shopper's inbox, read again and again from the due time on."""

    reads: int = 0  # until the launch showed
    visible_ms: float = float("nan")  # due → the read that showed it returned
    slowest_ms: float = 0.0  # of those reads
    reads_after: int = 0  # then, until the audience was counted
    slowest_after_ms: float = 0.0  # of those (SQLite: the count holds the write lock)
