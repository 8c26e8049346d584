"""Live delivery: N open notification streams on one `dropbell serve`, one launch, how fast?

    python benchmarks/live.py                                       # SQLite, throwaway file
    python benchmarks/live.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
    python benchmarks/live.py --streams 10000 --subscribers 1000000 --json

It bulk-loads a drop with M subscribers (default 1,000,000; set-based SQL, each with
a reminder whose leads vary), gives N of them (default 10,000) a bearer token, starts
`dropbell serve` on 127.0.0.1 with test hooks (a fake clock the bench moves), opens N
concurrent `GET /api/v1/streaming/notifications` streams, then moves the server's clock
to the launch. The moment of that move is the due time; each stream's delay is when its
`notification` event arrived (the release of the one notice row, the hub's one query for
the streams it holds, the push, the socket). Prints p50/p99/max over all streams and the
server's memory (RSS). Target: all 10,000 within 1 s of due (p99).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psutil
from rich.console import Console
from rich.table import Table

from dropbell.tools.bench.common import drop_postgres, load_drop, throwaway_postgres
from dropbell.tools.bench.launch_load import add_tokens

ROOT = Path(__file__).resolve().parents[1]
console = Console()


def raise_open_files(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def token_for(account_id: int) -> str:
    return f"live-bench-{account_id}"


# The leads the subscribers chose, by id: the launch notice reaches every one of them.
OFFSETS = "CASE x % 4 WHEN 0 THEN '' WHEN 1 THEN '900' WHEN 2 THEN '3600,900' ELSE '86400,900' END"


async def load(url: str, subscribers: int, n: int, launch_at: datetime, now: datetime) -> None:
    """``subscribers`` shoppers (ids 1..) reminded on drop 1, the first N with a bearer
    token; the launch job."""
    await load_drop(url, subscribers, launch_at, now, offsets=OFFSETS)
    await add_tokens(url, range(1, n + 1), now, token=token_for)


@contextlib.contextmanager
def database(url: str | None) -> Iterator[str]:
    if url is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'live.db'}"
        return
    made, name = asyncio.run(throwaway_postgres(url))
    try:
        yield made
    finally:
        asyncio.run(drop_postgres(url, name))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StreamClient(asyncio.Protocol):
    """One stream, as lean as possible: we only look for the two event names."""

    def __init__(self, ready: asyncio.Future[None], got: asyncio.Future[float]) -> None:
        self.ready, self.got = ready, got
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        if self.got.done():
            return
        self.buffer += data
        if not self.ready.done() and b"event: unread_count" in self.buffer:
            self.ready.set_result(None)
        if b"event: notification" in self.buffer:
            self.got.set_result(time.time())
        if len(self.buffer) > 65536:
            self.buffer = self.buffer[-4096:]

    def connection_lost(self, exc: Exception | None) -> None:
        for future in (self.ready, self.got):
            if not future.done():
                future.set_exception(ConnectionError("stream closed"))


async def open_streams(port: int, n: int, wave: int) -> tuple[list[asyncio.Future[float]], list]:
    loop = asyncio.get_running_loop()
    arrivals: list[asyncio.Future[float]] = []
    transports = []
    for start in range(1, n + 1, wave):
        readies = []
        for account in range(start, min(n, start + wave - 1) + 1):
            ready: asyncio.Future[None] = loop.create_future()
            got: asyncio.Future[float] = loop.create_future()
            transport, _ = await loop.create_connection(
                lambda ready=ready, got=got: StreamClient(ready, got), "127.0.0.1", port
            )
            transport.write(
                (
                    "GET /api/v1/streaming/notifications HTTP/1.1\r\n"
                    f"Host: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
                    f"Authorization: Bearer {token_for(account)}\r\n\r\n"
                ).encode()
            )
            readies.append(ready)
            arrivals.append(got)
            transports.append(transport)
        await asyncio.wait_for(asyncio.gather(*readies), timeout=120)
    return arrivals, transports


def start_server(url: str, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """`dropbell serve` with test hooks; it inherits our raised open-file limit."""
    env = {**os.environ, "DROPBELL_DATABASE_URL": url, "DROPBELL_TEST_HOOKS": "1"}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    args = [sys.executable, "-m", "dropbell.cli", "serve", "--port", str(port)]
    log = log_path.open("wb")  # the server writes to it until it stops
    return subprocess.Popen(
        [*args, "--log-level", os.environ.get("LIVE_BENCH_LOG", "warning")],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


async def run(
    url: str, subscribers: int, n: int, wave: int, wait_s: float
) -> dict[str, float | int]:
    now = datetime.now(UTC)
    launch_at = now + timedelta(hours=1)
    console.print(f"Loading {subscribers:,} subscribers, {n:,} with a token …")
    t0 = time.perf_counter()
    await load(url, subscribers, n, launch_at, now)
    load_s = time.perf_counter() - t0
    port = free_port()
    log_path = Path(tempfile.gettempdir()) / f"live-bench-{port}.log"
    server = start_server(url, port, log_path)
    proc = psutil.Process(server.pid)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            for _ in range(300):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            rss_idle = proc.memory_info().rss
            started = time.perf_counter()
            arrivals, transports = await open_streams(port, n, wave)
            connect_s = time.perf_counter() - started
            rss_connected = proc.memory_info().rss
            await asyncio.sleep(1.0)  # let the connect burst settle
            due = time.time()
            r = await http.post("/_test/clock", json={"now": launch_at.isoformat()})
            assert r.status_code == 200, r.text
            done, _ = await asyncio.wait(arrivals, timeout=wait_s)
            rss_after = proc.memory_info().rss
        delays = sorted((f.result() - due) * 1000 for f in done if f.exception() is None)
        for transport in transports:
            transport.close()
        await asyncio.sleep(1.0)  # let the server see the streams go
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    if len(delays) < n:
        console.print(f"[red]{n - len(delays)} of {n} streams got nothing within {wait_s}s[/]")
        console.print(f"server log: {log_path}")

    def pct(q: float) -> float:
        return delays[min(len(delays) - 1, int(q * (len(delays) - 1) + 0.5))] if delays else -1

    return {
        "subscribers": subscribers,
        "load_s": round(load_s, 1),
        "streams": n,
        "received": len(delays),
        "p50_ms": round(pct(0.50), 1),
        "p99_ms": round(pct(0.99), 1),
        "max_ms": round(delays[-1], 1) if delays else -1,
        "mean_ms": round(statistics.fmean(delays), 1) if delays else -1,
        "connect_s": round(connect_s, 1),
        "rss_idle_mb": round(rss_idle / 2**20, 1),
        "rss_connected_mb": round(rss_connected / 2**20, 1),
        "rss_after_mb": round(rss_after / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--subscribers", type=int, default=1_000_000, help="of the drop")
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite file)")
    parser.add_argument("--wave", type=int, default=500, help="streams opened at a time")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--json", action="store_true", help="last line: the figures as JSON")
    args = parser.parse_args()
    raise_open_files(args.streams + 1000)
    with database(args.database_url) as url:
        backend = "postgresql" if url.startswith("postgresql") else "sqlite"
        subscribers = max(args.subscribers, args.streams)
        figures = asyncio.run(run(url, subscribers, args.streams, args.wave, args.timeout))
    table = Table(
        title=f"live delivery · {args.streams:,} streams · {subscribers:,} subscribers · {backend}"
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("streams that got the launch", f"{figures['received']:,} / {args.streams:,}")
    table.add_row("due → notification, p50", f"{figures['p50_ms']:,.0f} ms")
    table.add_row("due → notification, p99", f"{figures['p99_ms']:,.0f} ms")
    table.add_row("due → notification, max", f"{figures['max_ms']:,.0f} ms")
    table.add_row("time to open all streams", f"{figures['connect_s']} s")
    table.add_row("server RSS, idle", f"{figures['rss_idle_mb']} MB")
    table.add_row("server RSS, streams open", f"{figures['rss_connected_mb']} MB")
    table.add_row("server RSS, after delivery", f"{figures['rss_after_mb']} MB")
    console.print(table)
    if args.json:
        print(json.dumps({"backend": backend, **figures}))
    if figures["received"] < args.streams:
        sys.exit(1)


if __name__ == "__main__":
    main()
