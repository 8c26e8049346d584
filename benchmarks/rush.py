"""The Remind-me rush: 2 `dropbell serve` processes on PostgreSQL, wrk hammering Remind me
and its undo from thousands of shoppers, against two bare FastAPI baselines served the
same way, then the same rush with a big launch fanning out in the middle of it.

    python -m benchmarks.rush                 # full profile: 60 s, 2,000 shoppers, 200,000
                                              #   subscribers on the drop that launches
    python -m benchmarks.rush --rounds 3      # each comparison run 3 times, best of 3 kept
    python -m benchmarks.rush --quick         # the short profile CI runs (10 s, 200 shoppers)

Run it from the repository root with the project's Python (PYTHONPATH=src if dropbell is
not installed). It needs PostgreSQL (``--database-url``, default
$DROPBELL_TEST_POSTGRES_URL or postgresql+asyncpg://postgres@127.0.0.1:5432/test: a
throwaway database ``dropbell_rush_<pid>`` is made on that server, migrated with
``dropbell migrate`` and dropped afterwards) and wrk (``apt-get install -y wrk``). Every
request goes to 127.0.0.1 only.

What runs, each with 2 server processes on 2 free ports and one wrk whose threads
alternate between the ports (benchmarks/rush.lua), for the same duration:

    hello          FastAPI alone, no database (benchmarks/bare.py)
    bare remind    FastAPI + raw asyncpg doing the minimum a Remind me must do
    dropbell       two `dropbell serve --no-scheduler` and a `dropbell worker`
    + offsets      the same, each Remind me choosing its leads: {"offsets": [3600, 900]}
    + launch       the same as dropbell, while a drop with N subscribers launches part-way
                   through (one notice released, then its audience counted); wrk runs in
                   short slices so the figures around the launch show

The servers get DROPBELL_RATE_LIMIT_REMIND=off and DROPBELL_REMIND_NEW_DROPS_PER_MINUTE=0
(the rush is thousands of taps a second from 2,000 accounts; both limits stay on by
default). Afterwards each drop's reminder_count (GET /api/v1/drops/{id}) must equal the
reminders held (the open periods: SELECT count(*) FROM reminders ... AND ended_at IS
NULL), the launch must be released within 100 ms of its due time and seen by every
subscriber exactly once, and the exit status is 1 when any of that fails or any request
failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.engine import make_url

from dropbell.db import make_engine

DEFAULT_SERVER = os.environ.get(
    "DROPBELL_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "rush.lua"
SHOPPER_BASE = 1_000  # shopper i is account SHOPPER_BASE + i
SUBSCRIBER_BASE = 1_000_000  # the launch drop's subscriber j is account SUBSCRIBER_BASE + j
BRAND_ID = 1


@dataclass(frozen=True)
class Profile:
    duration: int  # seconds of load per run
    shoppers: int
    drops: int  # drops the rush taps on
    connections: int  # wrk's open connections (the requests in flight), over both servers
    subscribers: int  # on the drop that launches during the last run
    launch_after: int  # seconds into that run
    slice: int  # seconds per wrk slice in that run
    warmup: int  # seconds of load before each measured run (not counted)
    rounds: int  # hello / bare / dropbell runs, best kept


PROFILES = {
    "full": Profile(60, 2_000, 3, 64, 200_000, 30, 2, 3, 1),
    "quick": Profile(10, 200, 3, 32, 20_000, 5, 1, 1, 1),
}
KINDS = ("hello", "bare", "dropbell", "offsets")
MINE = ("dropbell", "offsets")  # the dropbell runs, each compared with the baselines
OFFSETS_BODY = '{"offsets":[3600,900]}'  # what Remind me sends in the "offsets" run
RELEASE_TARGET_MS = 100.0  # the launch mid-rush: released at most this long after due
LABELS = {
    "hello": "hello (baseline a)",
    "bare": "bare remind (baseline b)",
    "dropbell": "dropbell remind",
    "offsets": "dropbell remind, offsets",
    "launch": "dropbell remind + launch",
}


# --- wrk -------------------------------------------------------------------------------


@dataclass
class Load:
    """What wrk measured over one run (or several merged)."""

    requests: int
    seconds: float
    ok: int
    non2xx: int
    codes: dict[str, int]
    socket_errors: int  # connect + read + write + timeout
    quantiles: list[tuple[float, float, float]]  # (percent, latency µs, weight in requests)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    ended: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.non2xx + self.socket_errors

    def percentile_ms(self, p: float) -> float:
        points = sorted((value, weight) for _, value, weight in self.quantiles)
        total = sum(w for _, w in points)
        if not points or total <= 0:
            return 0.0
        seen = 0.0
        for value, weight in points:
            seen += weight
            if seen >= total * p / 100 - 1e-9:
                return value / 1000
        return points[-1][0] / 1000

    @property
    def max_ms(self) -> float:
        return max((v for _, v, _ in self.quantiles), default=0.0) / 1000

    @classmethod
    def from_wrk(cls, raw: dict[str, Any], started: datetime, ended: datetime) -> Load:
        requests = int(raw["requests"])
        quantiles, previous = [], 0.0
        for percent, value in raw["quantiles"]:
            quantiles.append((percent, float(value), requests * (percent - previous) / 100))
            previous = percent
        return cls(
            requests=requests,
            seconds=raw["duration_us"] / 1e6,
            ok=int(raw["ok"]),
            non2xx=int(raw["non2xx"]),
            codes={str(k): int(v) for k, v in raw["codes"].items()},
            socket_errors=sum(int(raw[k]) for k in ("connect", "read", "write", "timeout")),
            quantiles=quantiles,
            started=started,
            ended=ended,
        )

    @classmethod
    def merge(cls, runs: Sequence[Load]) -> Load:
        codes: dict[str, int] = {}
        for run in runs:
            for k, v in run.codes.items():
                codes[k] = codes.get(k, 0) + v
        return cls(
            requests=sum(r.requests for r in runs),
            seconds=sum(r.seconds for r in runs),
            ok=sum(r.ok for r in runs),
            non2xx=sum(r.non2xx for r in runs),
            codes=codes,
            socket_errors=sum(r.socket_errors for r in runs),
            quantiles=[q for r in runs for q in r.quantiles],
            started=runs[0].started,
            ended=runs[-1].ended,
        )

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 2),
            "requests_per_s": round(self.rps, 1),
            "p50_ms": round(self.percentile_ms(50), 2),
            "p99_ms": round(self.percentile_ms(99), 2),
            "max_ms": round(self.max_ms, 2),
            "non2xx": self.non2xx,
            "codes": self.codes,
            "socket_errors": self.socket_errors,
        }


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is not installed. Install it with: apt-get install -y wrk")
    return path


def wrk(
    ports: Sequence[int],
    seconds: int,
    connections: int,
    prefix: str,
    shoppers: int,
    drops: Sequence[int],
    workdir: Path,
    body: str = "",
) -> Load:
    out = workdir / f"wrk-{time.monotonic_ns()}.json"
    threads = len(ports)
    env = {
        **os.environ,
        "RUSH_PORTS": ",".join(map(str, ports)),
        "RUSH_PREFIX": prefix,
        "RUSH_SHOPPERS": str(shoppers),
        "RUSH_DROPS": ",".join(map(str, drops)),
        "RUSH_THREADS": str(threads),
        "RUSH_OUT": str(out),
        "RUSH_BODY": body,
    }
    cmd = [
        require_wrk(),
        "-t",
        str(threads),
        "-c",
        str(max(connections, threads)),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{ports[0]}",
    ]
    started = datetime.now(UTC)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60)
    ended = datetime.now(UTC)
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    return Load.from_wrk(json.loads(out.read_text()), started, ended)


# --- the database ----------------------------------------------------------------------


def run_sql(
    url: str, *statements: tuple[str, dict[str, Any]], autocommit: bool = False
) -> list[Any]:
    """Run statements in one transaction (or autocommit); the last one's rows."""

    async def go() -> list[Any]:
        engine = make_engine(url, pool_size=1, max_overflow=0)
        try:
            async with engine.connect() as conn:
                if autocommit:
                    await conn.execution_options(isolation_level="AUTOCOMMIT")
                rows: list[Any] = []
                for sql, params in statements:
                    result = await conn.execute(text(sql), params)
                    rows = list(result.all()) if result.returns_rows else []
                if not autocommit:
                    await conn.commit()
                return rows
        finally:
            await engine.dispose()

    return asyncio.run(go())


@contextlib.contextmanager
def throwaway_database(server: str) -> Iterator[str]:
    """``dropbell_rush_<pid>`` on ``server``, migrated with `dropbell migrate`, then dropped."""
    name = f"dropbell_rush_{os.getpid()}"
    run_sql(server, (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', {}), autocommit=True)
    run_sql(server, (f'CREATE DATABASE "{name}"', {}), autocommit=True)
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        subprocess.run(
            [sys.executable, "-m", "dropbell.cli", "migrate"],
            env=server_env(url),
            check=True,
            capture_output=True,
        )
        yield url
    finally:
        run_sql(server, (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', {}), autocommit=True)


@dataclass(frozen=True)
class Layout:
    prefix: str  # shopper i's token is prefix + str(i)
    brand_token: str
    rush_drops: list[int]
    launch_drop: int
    launch_job: int


def load(url: str, profile: Profile) -> Layout:
    """Set-based: a brand, the rush drops, the launch drop with its subscribers and its
    (not yet due) launch job, and the shoppers with their tokens (iOS, US, English)."""
    prefix = f"rush-{secrets.token_hex(8)}-"
    brand_token = prefix + "brand"
    now = datetime.now(UTC)
    later = now + timedelta(days=1)
    rush = list(range(1, profile.drops + 1))
    launch = profile.drops + 1
    account = (
        "INSERT INTO accounts (id, username, password_hash, display_name, country, language,"
        " timezone, is_partner, created_at) "
    )
    digest = "encode(sha256(convert_to({}, 'UTF8')), 'hex')"
    statements: list[tuple[str, dict[str, Any]]] = [
        (
            account
            + "VALUES (:id, 'rush_brand', '!', 'Rush brand', 'US', 'en', 'UTC', true, :now)",
            {"id": BRAND_ID, "now": now},
        ),
        (
            account + "SELECT :base + x, 'shopper' || x, '!', 'Shopper ' || x, 'US', 'en', 'UTC',"
            " false, :now FROM generate_series(1, :n) AS x",
            {"base": SHOPPER_BASE, "n": profile.shoppers, "now": now},
        ),
        (
            account + "SELECT :base + x, 'sub' || x, '!', 'Subscriber ' || x, 'US', 'en', 'UTC',"
            " false, :now FROM generate_series(1, :n) AS x",
            {"base": SUBSCRIBER_BASE, "n": profile.subscribers, "now": now},
        ),
        (
            "INSERT INTO access_tokens (account_id, token_hash, platform, created_at) "
            f"SELECT :base + x, {digest.format(':prefix || x')}, 'ios', :now"
            " FROM generate_series(1, :n) AS x",
            {"base": SHOPPER_BASE, "n": profile.shoppers, "prefix": prefix, "now": now},
        ),
        (
            "INSERT INTO access_tokens (account_id, token_hash, platform, created_at) "
            f"VALUES (:brand, {digest.format(':token')}, 'ios', :now)",
            {"brand": BRAND_ID, "token": brand_token, "now": now},
        ),
        (
            "INSERT INTO posts (id, author_id, text, created_at, like_count, repost_count,"
            " bookmark_count, share_count)"
            " SELECT x, :brand, 'Drop ' || x || ' #rush' || x, :now, 0, 0, 0, 0"
            " FROM generate_series(1, :n) AS x",
            {"brand": BRAND_ID, "n": launch, "now": now},
        ),
        (
            "INSERT INTO drops (id, brand_id, title, description, launch_at, tag, shop_url,"
            " post_id, reminder_count, schedule_version, created_at, updated_at)"
            " SELECT x, :brand, 'Drop ' || x, '', :later, 'rush' || x,"
            " 'https://rush.example/' || x, x, 0, 0, :now, :now"
            " FROM generate_series(1, :n) AS x",
            {"brand": BRAND_ID, "n": launch, "now": now, "later": later},
        ),
        (
            # Open periods, their leads varied: the launch reaches them all.
            "INSERT INTO reminders (drop_id, account_id, offsets, created_at)"
            " SELECT :drop, :base + x, CASE x % 3 WHEN 0 THEN '' WHEN 1 THEN '900'"
            " ELSE '3600,900' END, :now FROM generate_series(1, :n) AS x",
            {"drop": launch, "base": SUBSCRIBER_BASE, "n": profile.subscribers, "now": now},
        ),
        (
            "UPDATE drops SET reminder_count = :n WHERE id = :drop",
            {"drop": launch, "n": profile.subscribers},
        ),
        (
            "INSERT INTO reminder_jobs (id, drop_id, kind, due_at, state, delivered, attempts,"
            " created_at) VALUES (1, :drop, 'drop_live', :later, 'pending', 0, 0, :now)",
            {"drop": launch, "now": now, "later": later},
        ),
    ]
    for table in ("accounts", "posts", "drops", "reminder_jobs"):
        statements.append(
            (
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM"
                f" {table}))",
                {},
            )
        )
    run_sql(url, *statements)
    run_sql(url, ("VACUUM ANALYZE", {}), autocommit=True)
    return Layout(prefix, brand_token, rush, launch, 1)


def quiesce(url: str, timeout: float = 60) -> None:
    """Wait until no transaction is open on the database but ours.

    When wrk stops, requests it gave up on may still be running in the servers (waiting
    for a drop's row lock, say); counting or resetting before they commit would mix
    their changes with ours.
    """
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        (busy,) = run_sql(
            url,
            (
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL",
                {},
            ),
        )[0]
        quiet = quiet + 1 if busy == 0 else 0
        if quiet >= 3:
            return
        time.sleep(0.05)
    raise TimeoutError(f"transactions still open on the rush database after {timeout:.0f} s")


def reset(url: str, drops: Sequence[int]) -> None:
    """Every run starts from no reminders on the rush drops."""
    quiesce(url)
    run_sql(
        url,
        ("DELETE FROM reminders WHERE drop_id = ANY(:d)", {"d": list(drops)}),
        ("UPDATE drops SET reminder_count = 0 WHERE id = ANY(:d)", {"d": list(drops)}),
    )
    run_sql(url, ("VACUUM ANALYZE reminders, drops", {}), autocommit=True)


def held(url: str, drops: Sequence[int]) -> dict[int, tuple[int, int]]:
    """drop id -> (the drops.reminder_count column, the reminders held: open periods)."""
    rows = run_sql(
        url,
        (
            "SELECT d.id, d.reminder_count, (SELECT count(*) FROM reminders r"
            " WHERE r.drop_id = d.id AND r.ended_at IS NULL) FROM drops d"
            " WHERE d.id = ANY(:d) ORDER BY d.id",
            {"d": list(drops)},
        ),
    )
    return {int(i): (int(c), int(n)) for i, c, n in rows}


# --- processes -------------------------------------------------------------------------


def server_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")]
        ),
        "DROPBELL_DATABASE_URL": url,
        "DROPBELL_RATE_LIMIT_REMIND": "off",
        "DROPBELL_REMIND_NEW_DROPS_PER_MINUTE": "0",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def commands(kind: str, port: int, pool_size: int | None) -> list[str]:
    if kind == "hello":
        return [sys.executable, "-m", "benchmarks.bare", "hello", "--port", str(port)]
    if kind == "bare":
        pool = ["--pool-size", str(pool_size)] if pool_size else []
        return [sys.executable, "-m", "benchmarks.bare", "bare-remind", "--port", str(port), *pool]
    return [
        *(sys.executable, "-m", "dropbell.cli", "serve", "--port", str(port)),
        *("--no-scheduler", "--log-level", "warning"),
    ]


@dataclass(frozen=True)
class Servers:
    ports: list[int]
    pids: list[int]  # the servers' (and the worker's) processes


@contextlib.contextmanager
def servers(kind: str, url: str, logdir: Path, pool_size: int | None) -> Iterator[Servers]:
    """Two server processes of ``kind`` (and for dropbell a worker)."""
    env = server_env(url)
    if pool_size and kind != "bare":
        env["DROPBELL_DB_POOL_SIZE"] = str(pool_size)
        env["DROPBELL_DB_MAX_OVERFLOW"] = "0"
    ports = [free_port(), free_port()]
    procs: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(cmd: list[str], name: str) -> None:
        log = logdir / f"{name}.log"
        with open(log, "ab") as out:
            procs.append(
                (
                    subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT),
                    log,
                )
            )

    try:
        for i, port in enumerate(ports):
            start(commands(kind, port, pool_size), f"{kind}-{i}")
        if kind == "dropbell":
            start([sys.executable, "-m", "dropbell.cli", "worker"], "worker")
        for port in ports:
            wait_healthy(port, procs)
        yield Servers(ports, [proc.pid for proc, _ in procs])
    finally:
        for proc, _ in procs:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        for proc, _ in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_healthy(port: int, procs: list[tuple[subprocess.Popen[bytes], Path]]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for proc, log in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{log.name} exited:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise TimeoutError(f"no server on port {port} after 60 s")


# --- what else the machine was doing ----------------------------------------------------


@dataclass
class Cpu:
    """CPU seconds over one measured run, by whom; connections opened; and whether
    PostgreSQL restarted (someone else's test, say) under it."""

    wall: float = 0.0
    servers: float = 0.0  # our server processes (and the worker)
    postgres: float = 0.0  # the backends of the rush's database
    wrk: float = 0.0
    others: float = 0.0  # everything else: other people's work (and PostgreSQL's own)
    connections_opened: int = 0
    postgres_restarted: bool = False

    def summary(self, requests: int) -> dict[str, Any]:
        per = 1000 / requests if requests else 0.0
        return {
            "server_cpu_ms_per_request": round(self.servers * per, 3),
            "postgres_cpu_ms_per_request": round(self.postgres * per, 3),
            "other_load_cores": round(self.others / self.wall, 2) if self.wall else None,
            "connections_opened": self.connections_opened,
            "postgres_restarted": self.postgres_restarted,
        }


def _tree_cpu(pids: Sequence[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    t = p.cpu_times()
                    total += t.user + t.system
    return total


def _postgres_cpu(database: str) -> tuple[dict[int, float], set[int]]:
    """CPU seconds of every PostgreSQL process, and which are backends of ``database``."""
    cpu: dict[int, float] = {}
    ours: set[int] = set()
    for p in psutil.process_iter(["name", "cmdline", "cpu_times"]):
        if p.info["name"] not in ("postgres", "postmaster") or not p.info["cpu_times"]:
            continue
        cpu[p.pid] = p.info["cpu_times"].user + p.info["cpu_times"].system
        if f" {database} " in " ".join(p.info["cmdline"] or []) + " ":
            ours.add(p.pid)
    return cpu, ours


def _busy() -> float:
    t = psutil.cpu_times()
    return float(t.user + t.nice + t.system + t.irq + t.softirq)


def _wrk_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk is the only child reaped meanwhile
    return r.ru_utime + r.ru_stime


def _server_state(url: str) -> tuple[Any, int]:
    """When PostgreSQL started, and how many sessions it has opened on this database."""
    started, sessions = run_sql(
        url,
        (
            "SELECT pg_postmaster_start_time(), sessions FROM pg_stat_database"
            " WHERE datname = current_database()",
            {},
        ),
    )[0]
    return started, int(sessions)


@contextlib.contextmanager
def meter(url: str, pids: Sequence[int]) -> Iterator[Cpu]:
    """Measure who used the CPU while the block ran (the machine is shared)."""
    cpu = Cpu()
    database = str(make_url(url).database)
    started, sessions = _server_state(url)
    t0, s0, w0, b0 = time.monotonic(), _tree_cpu(pids), _wrk_cpu(), _busy()
    pg0, _ = _postgres_cpu(database)
    yield cpu
    t1, s1, w1, b1 = time.monotonic(), _tree_cpu(pids), _wrk_cpu(), _busy()
    pg1, ours = _postgres_cpu(database)
    cpu.wall, cpu.servers, cpu.wrk = t1 - t0, s1 - s0, w1 - w0
    deltas = {pid: used - pg0.get(pid, 0.0) for pid, used in pg1.items()}
    cpu.postgres = sum(d for pid, d in deltas.items() if pid in ours)
    cpu.others = max(0.0, (b1 - b0) - cpu.servers - cpu.wrk - sum(deltas.values()))
    try:
        restarted_at, sessions_after = _server_state(url)
        cpu.postgres_restarted = restarted_at != started
        cpu.connections_opened = sessions_after - sessions - 1  # less our own look
    except Exception:
        cpu.postgres_restarted = True


# --- the runs --------------------------------------------------------------------------


@dataclass
class CountCheck:
    drop_id: int
    api: int | None  # GET /api/v1/drops/{id} reminder_count (None: no dropbell API)
    column: int
    rows: int

    @property
    def ok(self) -> bool:
        return self.column == self.rows and (self.api is None or self.api == self.rows)


@dataclass
class Run:
    kind: str
    round: int
    load: Load
    checks: list[CountCheck]
    cpu: Cpu = field(default_factory=Cpu)
    slices: list[Load] = field(default_factory=list)
    launch: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            self.load.errors == 0
            and not self.cpu.postgres_restarted
            and all(c.ok for c in self.checks)
            and self.launch.get("ok", True) is True
        )


def check_counts(url: str, drops: Sequence[int], port: int | None) -> list[CountCheck]:
    quiesce(url)
    api: dict[int, int | None] = {}
    for d in drops:
        if port is None:
            api[d] = None
        else:
            r = httpx.get(f"http://127.0.0.1:{port}/api/v1/drops/{d}", timeout=10)
            r.raise_for_status()
            api[d] = int(r.json()["reminder_count"])
    return [CountCheck(d, api[d], c, n) for d, (c, n) in held(url, drops).items()]


def measured(
    kind: str,
    round_: int,
    url: str,
    layout: Layout,
    profile: Profile,
    logdir: Path,
    pool_size: int | None,
    say: Console,
) -> Run:
    body = OFFSETS_BODY if kind == "offsets" else ""
    with servers("dropbell" if kind in MINE else kind, url, logdir, pool_size) as cluster:
        ports = cluster.ports
        args = (profile.connections, layout.prefix, profile.shoppers, layout.rush_drops, logdir)
        wrk(ports, profile.warmup, *args, body=body)
        reset(url, layout.rush_drops)
        with meter(url, cluster.pids) as cpu:
            load_ = wrk(ports, profile.duration, *args, body=body)
        port = ports[1] if kind in MINE else None
        checks = check_counts(url, layout.rush_drops, port) if kind != "hello" else []
    run = Run(kind, round_, load_, checks, cpu)
    use = cpu.summary(load_.requests)
    say.print(
        f"  {LABELS[kind]}: {load_.rps:,.0f} req/s, p50 {load_.percentile_ms(50):.1f} ms,"
        f" p99 {load_.percentile_ms(99):.1f} ms, errors {load_.errors};"
        f" CPU ms/request: servers {use['server_cpu_ms_per_request']},"
        f" PostgreSQL {use['postgres_cpu_ms_per_request']};"
        f" others' load {use['other_load_cores']} cores;"
        f" {use['connections_opened']} connections opened"
        + ("" if all(c.ok for c in checks) else "  COUNT MISMATCH")
        + ("  POSTGRESQL RESTARTED" if cpu.postgres_restarted else "")
    )
    return run


def launch_run(
    url: str, layout: Layout, profile: Profile, logdir: Path, pool_size: int | None, say: Console
) -> Run:
    """The rush in wrk slices, while the launch drop's notice is released part-way through
    (and its audience of ``profile.subscribers`` counted after)."""
    args = (profile.connections, layout.prefix, profile.shoppers, layout.rush_drops, logdir)
    with servers("dropbell", url, logdir, pool_size) as cluster:
        ports = cluster.ports
        wrk(ports, profile.warmup, *args)
        reset(url, layout.rush_drops)
        due = datetime.now(UTC) + timedelta(seconds=profile.launch_after)
        run_sql(
            url,
            (
                "UPDATE drops SET launch_at = :due WHERE id = :d",
                {"due": due, "d": layout.launch_drop},
            ),
            (
                "UPDATE reminder_jobs SET due_at = :due WHERE id = :j",
                {"due": due, "j": layout.launch_job},
            ),
        )
        slices: list[Load] = []
        end = time.monotonic() + profile.duration
        with meter(url, cluster.pids) as cpu:
            while (left := end - time.monotonic()) >= 1:
                slices.append(wrk(ports, min(profile.slice, int(left)), *args))
        done = wait_for_job(url, layout.launch_job, timeout=300)
        checks = check_counts(url, layout.rush_drops, ports[1])
        r = httpx.get(
            f"http://127.0.0.1:{ports[0]}/api/v1/drops/{layout.launch_drop}/stats",
            headers={"Authorization": f"Bearer {layout.brand_token}"},
            timeout=10,
        )
        r.raise_for_status()
        stats = r.json()
    # The notice's created_at is stamped in the releasing transaction, just before its
    # commit; the deliveries row (written when the audience was counted) carries it too.
    released, counted, notices, deliveries, delivered = run_sql(
        url,
        (
            "SELECT (SELECT max(created_at) FROM notifications WHERE job_id = :j"
            " AND account_id IS NULL), j.counted_at,"
            " (SELECT count(*) FROM notifications WHERE job_id = :j AND account_id IS NULL),"
            " (SELECT count(*) FROM deliveries WHERE job_id = :j), j.delivered"
            " FROM reminder_jobs j WHERE j.id = :j",
            {"j": layout.launch_job},
        ),
    )[0]
    # Who sees it, as the inbox finds it (notifications.audience.covers).
    seen, distinct = run_sql(
        url,
        (
            "SELECT count(*), count(DISTINCT r.account_id) FROM notifications n"
            " JOIN reminders r ON r.drop_id = n.drop_id AND r.created_at <= n.due_at"
            " AND (r.ended_at IS NULL OR r.ended_at > n.due_at)"
            " WHERE n.job_id = :j AND n.account_id IS NULL",
            {"j": layout.launch_job},
        ),
    )[0]
    released_ms = round((released - due).total_seconds() * 1000, 1) if released else None
    launch = {
        "subscribers": profile.subscribers,
        "job_done": done,
        "due_at": due.isoformat(),
        "released_ms": released_ms,
        "release_target_ms": RELEASE_TARGET_MS,
        "counted_s": round((counted - released).total_seconds(), 2)
        if counted and released
        else None,
        "notice_rows": int(notices),
        "deliveries": int(deliveries),
        "delivered": int(delivered),
        "notified": int(seen),
        "distinct": int(distinct),
        "lateness_ms": stats["lateness_ms"],
        "notified_live": stats["notified_live"],
        "ok": bool(
            done
            and released_ms is not None
            and released_ms <= RELEASE_TARGET_MS
            and int(notices) == int(deliveries) == 1
            and int(seen) == int(distinct) == int(delivered) == profile.subscribers
        ),
    }
    window_end = counted or due
    launch["window_ms"] = round((window_end - due).total_seconds() * 1000, 1)
    run = Run("launch", 1, Load.merge(slices), checks, cpu, slices, launch)
    during = [s for s in slices if s.ended > due and s.started < window_end]
    launch["during"] = Load.merge(during).summary() if during else None
    say.print(
        f"  {LABELS['launch']}: {run.load.rps:,.0f} req/s, errors {run.load.errors};"
        f" released {released_ms} ms after due, seen by {int(seen):,}"
        f" ({int(distinct):,} distinct), counted in {launch['counted_s']} s"
    )
    return run


def wait_for_job(url: str, job: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        (state,) = run_sql(url, ("SELECT state FROM reminder_jobs WHERE id = :j", {"j": job}))[0]
        if state == "done":
            return True
        time.sleep(0.2)
    return False


# --- the report ------------------------------------------------------------------------


@dataclass
class Report:
    profile: Profile
    runs: list[Run]

    def best(self, kind: str) -> Run | None:
        runs = [r for r in self.runs if r.kind == kind]
        return max(runs, key=lambda r: r.load.rps) if runs else None

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.runs)

    def ratios(self) -> dict[str, float]:
        """ "dropbell/bare" and the like: a dropbell run's requests/s over a baseline's."""
        out = {}
        for kind in MINE:
            mine = self.best(kind)
            for base_kind in ("hello", "bare"):
                base = self.best(base_kind)
                if mine and base and base.load.rps:
                    out[f"{kind}/{base_kind}"] = mine.load.rps / base.load.rps
        return out


def table(report: Report) -> Table:
    p = report.profile
    rounds = max((r.round for r in report.runs if r.kind in KINDS), default=1)
    t = Table(
        title=(
            f"Remind-me rush · {p.duration} s · {p.shoppers:,} shoppers · {p.drops} drops ·"
            f" {p.connections} connections · 2 processes"
            + (f" · best of {rounds}" if rounds > 1 else "")
        )
    )
    for col, justify in [
        ("run", "left"),
        ("requests/s", "right"),
        ("p50 ms", "right"),
        ("p99 ms", "right"),
        ("max ms", "right"),
        ("non-2xx", "right"),
        ("socket errors", "right"),
        ("count = rows", "left"),
        ("CPU ms/req app+PG", "right"),
        ("others' load", "right"),
    ]:
        t.add_column(col, justify=justify)  # type: ignore[arg-type]
    shown = [report.best(k) for k in KINDS] + [r for r in report.runs if r.kind == "launch"]
    for run in shown:
        if run is None:
            continue
        use = run.cpu.summary(run.load.requests)
        if not run.checks:
            counts = "—"
        elif all(c.ok for c in run.checks):
            counts = f"yes ({len(run.checks)})"
        else:
            counts = "NO: " + ", ".join(
                f"drop {c.drop_id}: api {c.api} column {c.column} rows {c.rows}"
                for c in run.checks
                if not c.ok
            )
        t.add_row(
            LABELS[run.kind],
            f"{run.load.rps:,.0f}",
            f"{run.load.percentile_ms(50):.1f}",
            f"{run.load.percentile_ms(99):.1f}",
            f"{run.load.max_ms:.0f}",
            str(run.load.non2xx),
            str(run.load.socket_errors),
            counts,
            f"{use['server_cpu_ms_per_request']:.2f} + {use['postgres_cpu_ms_per_request']:.2f}",
            f"{use['other_load_cores']:.2f} cores"
            + (" (PostgreSQL restarted)" if run.cpu.postgres_restarted else ""),
        )
    return t


def slice_table(run: Run) -> Table:
    due = datetime.fromisoformat(run.launch["due_at"])
    window_end = due + timedelta(milliseconds=run.launch["window_ms"] or 0)
    t = Table(
        title="The rush around the launch (wrk slices; * = from due until its audience was counted)"
    )
    for col in ("from launch", "requests/s", "p50 ms", "p99 ms", "max ms", "errors"):
        t.add_column(col, justify="right")
    for s in run.slices:
        a = (s.started - due).total_seconds()
        b = (s.ended - due).total_seconds()
        mark = "*" if s.ended > due and s.started < window_end else ""
        t.add_row(
            f"{a:+.1f} … {b:+.1f} s {mark}",
            f"{s.rps:,.0f}",
            f"{s.percentile_ms(50):.1f}",
            f"{s.percentile_ms(99):.1f}",
            f"{s.max_ms:.0f}",
            str(s.errors),
        )
    return t


def run(
    profile: Profile,
    server: str = DEFAULT_SERVER,
    kinds: Sequence[str] = (*KINDS, "launch"),
    pool_size: int | None = None,
    console: Console | None = None,
) -> Report:
    say = console or Console(stderr=True, width=200)
    require_wrk()
    runs: list[Run] = []
    with throwaway_database(server) as url, tempfile.TemporaryDirectory() as tmp:
        logdir = Path(tmp)
        say.print(
            f"Loading {profile.shoppers:,} shoppers and {profile.subscribers:,} subscribers …"
        )
        layout = load(url, profile)
        for round_ in range(1, profile.rounds + 1):
            say.print(f"Round {round_} of {profile.rounds}")
            for kind in KINDS:
                if kind in kinds:
                    runs.append(
                        measured(kind, round_, url, layout, profile, logdir, pool_size, say)
                    )
        if "launch" in kinds:
            say.print(
                f"The rush with a launch to {profile.subscribers:,} subscribers"
                f" {profile.launch_after} s in"
            )
            runs.append(launch_run(url, layout, profile, logdir, pool_size, say))
    return Report(profile, runs)


def main() -> None:
    parser = argparse.ArgumentParser(
        description="The Remind-me rush against two bare FastAPI baselines (see the module doc)."
    )
    parser.add_argument("--quick", action="store_true", help="the short profile CI runs")
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="the PostgreSQL server")
    parser.add_argument("--duration", type=int, help="seconds of load per run")
    parser.add_argument("--shoppers", type=int)
    parser.add_argument("--drops", type=int, help="drops the rush taps on (1-63)")
    parser.add_argument("--connections", type=int, help="wrk connections over both servers")
    parser.add_argument("--subscribers", type=int, help="on the drop that launches mid-rush")
    parser.add_argument("--launch-after", type=int, help="seconds into the launch run")
    parser.add_argument("--rounds", type=int, help="repeat the comparison, keep the best")
    parser.add_argument("--pool-size", type=int, help="database pool per server process")
    parser.add_argument(
        "--only",
        default=",".join((*KINDS, "launch")),
        help="comma-separated: hello, bare, dropbell, offsets, launch",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    profile = PROFILES["quick" if args.quick else "full"]
    overrides = {
        k: getattr(args, k)
        for k in (
            "duration",
            "shoppers",
            "drops",
            "connections",
            "subscribers",
            "launch_after",
            "rounds",
        )
        if getattr(args, k) is not None
    }
    profile = replace(profile, **overrides)
    console = Console(width=150)
    report = run(
        profile,
        args.database_url,
        args.only.split(","),
        args.pool_size,
        Console(stderr=True, width=200),
    )
    print_report(report, console)
    if args.json:
        args.json.write_text(json.dumps(report_json(report), indent=2, default=str))
    sys.exit(0 if report.ok else 1)


def print_report(report: Report, console: Console) -> None:
    console.print(table(report))
    for key, ratio in report.ratios().items():
        kind, base_kind = key.split("/")
        base = report.best(base_kind)
        assert base is not None
        verdict = "meets" if ratio >= 0.6 else "misses"
        console.print(
            f"{LABELS[kind]} / {LABELS[base_kind]}: {ratio:.0%} of {base.load.rps:,.0f} req/s"
            f" ({verdict} the 60 % goal)"
        )
    for run_ in report.runs:
        if run_.kind == "launch":
            console.print(slice_table(run_))
            f = run_.launch
            verdict = "within" if f["ok"] else "NOT within"
            console.print(
                f"Launch: released {f['released_ms']} ms after due ({verdict} the"
                f" {f['release_target_ms']:.0f} ms target, one notice row:"
                f" {f['notice_rows']}); seen by {f['notified']:,} of {f['subscribers']:,}"
                f" subscribers ({f['distinct']:,} distinct); audience counted"
                f" {f['counted_s']} s after the release ({f['delivered']:,},"
                f" {f['deliveries']} deliveries row); the brand's stats: lateness"
                f" p50/p99/max {f['lateness_ms']['p50']}/{f['lateness_ms']['p99']}/"
                f"{f['lateness_ms']['max']} ms, notified_live {f['notified_live']:,}."
            )
            if f.get("during"):
                d = f["during"]
                console.print(
                    f"Rush from due until counted: {d['requests_per_s']:,.0f} req/s,"
                    f" p50 {d['p50_ms']} ms, p99 {d['p99_ms']} ms, errors"
                    f" {d['non2xx'] + d['socket_errors']}."
                )
    console.print("OK" if report.ok else "FAILED")


def report_json(report: Report) -> dict[str, Any]:
    return {
        "profile": report.profile.__dict__,
        "runs": [
            {
                "kind": r.kind,
                "round": r.round,
                **r.load.summary(),
                **r.cpu.summary(r.load.requests),
                "counts": [c.__dict__ for c in r.checks],
                "launch": r.launch or None,
                "slices": [{"started": s.started.isoformat(), **s.summary()} for s in r.slices],
            }
            for r in report.runs
        ],
        "ratios": report.ratios(),
        "ok": report.ok,
    }


if __name__ == "__main__":
    main()
