"""Chaos runs: real `dropbell worker` / `dropbell serve` processes on one PostgreSQL
database, killed, hung, cut off from the database, and stopped across reminder times.
Afterwards every subscriber must have exactly one of each notice that was due.

    python -m benchmarks.chaos all                  # the full profile (docs/reliability.md)
    python -m benchmarks.chaos kill --subscribers 200000 --kills 20
    python -m benchmarks.chaos pg-restart | downtime | hang
    python -m benchmarks.chaos all --quick          # the short profile CI runs

Options: --database-url names the PostgreSQL server (a throwaway database is made on
it and dropped afterwards). Each scenario prints lost = 0, duplicated = 0 per notice.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from dropbell.bench import drop_postgres, load_drop, throwaway_postgres
from dropbell.db import make_engine
from dropbell.reminders.models import LIVE, SOON

DEFAULT_SERVER = os.environ.get(
    "DROPBELL_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Outcome:
    scenario: str
    subscribers: int
    counts: dict[str, dict[str, int]]  # type -> {"rows", "distinct"}
    expected: dict[str, int]  # type -> how many subscribers must have one
    seconds: float
    notes: dict[str, Any] = field(default_factory=dict)

    def lost(self, kind: str) -> int:
        return self.expected.get(kind, 0) - self.counts.get(kind, {}).get("distinct", 0)

    def duplicated(self, kind: str) -> int:
        c = self.counts.get(kind, {})
        return c.get("rows", 0) - c.get("distinct", 0)

    @property
    def ok(self) -> bool:
        kinds = set(self.expected) | set(self.counts)
        return all(self.lost(k) == 0 and self.duplicated(k) == 0 for k in kinds)

    def lines(self) -> list[str]:
        out = [f"[{self.scenario}] {self.subscribers:,} subscribers, {self.seconds:.1f}s"]
        for kind in sorted(set(self.expected) | set(self.counts)):
            rows = self.counts.get(kind, {}).get("rows", 0)
            out.append(
                f"  {kind:<11} expected {self.expected.get(kind, 0):>8,}  delivered {rows:>8,}"
                f"  lost = {self.lost(kind)}, duplicated = {self.duplicated(kind)}"
            )
        for key, value in self.notes.items():
            out.append(f"  {key}: {value}")
        out.append(f"  {'OK' if self.ok else 'FAILED'}")
        return out


class Cluster:
    """dropbell processes sharing one throwaway PostgreSQL database."""

    def __init__(self, url: str, logdir: Path, **settings: Any) -> None:
        self.url = url
        self.logdir = logdir
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
            "DROPBELL_DATABASE_URL": url,
            "DROPBELL_SCHEDULER_POLL_SECONDS": "0.1",
            **{f"DROPBELL_{k.upper()}": str(v) for k, v in settings.items()},
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.started = 0

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        self.started += 1
        log = open(self.logdir / f"{name}.{self.started}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "dropbell.cli", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.logdir,
        )
        self.procs[name] = proc
        return proc

    def worker(self, name: str) -> subprocess.Popen[bytes]:
        return self.start(name, "worker", "--log-level", "info")

    def serve(self, name: str, port: int, scheduler: bool = True) -> subprocess.Popen[bytes]:
        args = ["serve", "--port", str(port), "--log-level", "warning"]
        return self.start(name, *args, *([] if scheduler else ["--no-scheduler"]))

    def signal(self, name: str, sig: int) -> None:
        self.procs[name].send_signal(sig)

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        proc.kill()
        proc.wait()

    def stop_all(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGCONT)
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logdir.glob("*.log")))


@contextlib.contextmanager
def scratch_database(server: str) -> Iterator[str]:
    url, name = asyncio.run(throwaway_postgres(server))
    try:
        yield url
    finally:
        asyncio.run(drop_postgres(server, name))


async def _query(url: str, sql: str, **params: Any) -> list[Any]:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())
    finally:
        await engine.dispose()


def query(url: str, sql: str, **params: Any) -> list[Any]:
    for attempt in range(60):  # the server may be restarting
        try:
            return asyncio.run(_query(url, sql, **params))
        except (OSError, Exception) as exc:
            if attempt == 59 or "does not exist" in str(exc):
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


def counts(url: str) -> dict[str, dict[str, int]]:
    rows = query(
        url,
        "SELECT type, count(*), count(DISTINCT account_id) FROM notifications"
        " WHERE drop_id = 1 GROUP BY type",
    )
    return {kind: {"rows": n, "distinct": d} for kind, n, d in rows}


def wait_until_done(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        (left,) = query(
            url, "SELECT count(*) FROM reminder_jobs WHERE state IN ('pending', 'running')"
        )[0]
        if left == 0:
            return
        time.sleep(0.2)
    raise TimeoutError(f"reminder jobs still pending after {timeout:.0f}s")


def load(url: str, n: int, soon_in: float, live_in: float) -> datetime:
    now = datetime.now(UTC)
    launch = now + timedelta(seconds=live_in)
    jobs = [(SOON, now + timedelta(seconds=soon_in)), (LIVE, launch)]
    asyncio.run(load_drop(url, n, launch, now, jobs))
    return launch


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sleep_until(when: datetime) -> None:
    time.sleep(max(0.0, (when - datetime.now(UTC)).total_seconds()))


# --- scenarios -------------------------------------------------------------------------


def kill_workers(
    server: str, subscribers: int, kills: int, workers: int = 3, seed: int | None = None
) -> Outcome:
    """N workers fan out soon+live while a driver SIGKILLs a random one and restarts it.

    Kills land at random moments while a fan-out is under way (half during the soon
    notice, half during the launch), so some hit the worker holding the job.
    """
    rng = random.Random(seed)
    lease = 2.0
    with scratch_database(server) as url, tempfile.TemporaryDirectory() as logdir:
        started = time.monotonic()
        # Room for the soon fan-out to finish before launch even if every kill stalls it.
        gap = 5.0 + subscribers / 20_000 + kills / 2 * lease
        load(url, subscribers, soon_in=1.0, live_in=1.0 + gap)
        cluster = Cluster(url, Path(logdir), fanout_batch_size=1000, job_lease_seconds=lease)
        names = [f"worker{i}" for i in range(workers)]
        for name in names:
            cluster.worker(name)
        hits = done = 0
        try:
            for kind, share in ((SOON, kills // 2), (LIVE, kills - kills // 2)):
                for _ in range(share):
                    _wait_for_running(url, kind)
                    time.sleep(rng.uniform(0.0, 0.4))
                    victim = rng.choice(names)
                    pid = cluster.procs[victim].pid
                    hits += query(
                        url,
                        "SELECT count(*) FROM reminder_jobs WHERE state = 'running'"
                        " AND lease_owner LIKE :p",
                        p=f"%:{pid}:%",
                    )[0][0]
                    cluster.kill(victim)
                    cluster.worker(victim)
                    done += 1
            wait_until_done(url, timeout=300)
        finally:
            cluster.stop_all()
        states = dict(query(url, "SELECT kind, state FROM reminder_jobs"))
        return Outcome(
            "kill",
            subscribers,
            counts(url),
            {SOON: subscribers, LIVE: subscribers},
            time.monotonic() - started,
            {
                "SIGKILLs (each followed by a restart)": done,
                "kills that hit the worker holding the fan-out": hits,
                "job states": states,
            },
        )


def _wait_for_running(url: str, kind: str, timeout: float = 300) -> str:
    """Wait until the job of ``kind`` is being fanned out (or finished); return its state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        (state,) = query(url, "SELECT state FROM reminder_jobs WHERE kind = :k", k=kind)[0]
        if state in ("running", "done", "skipped"):
            return str(state)
        time.sleep(0.02)
    raise TimeoutError(f"{kind} never started")


def restart_postgres() -> float:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    started = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
    )
    return time.monotonic() - started


def pg_restart(server: str, subscribers: int) -> Outcome:
    """Restart the PostgreSQL server in the middle of a fan-out; processes reconnect."""
    with scratch_database(server) as url, tempfile.TemporaryDirectory() as logdir:
        started = time.monotonic()
        port = free_port()
        # The soon fan-out must finish before the launch, restart and reconnects included
        # (after the launch a soon notice is rightly never sent).
        load(url, subscribers, soon_in=2.0, live_in=15.0 + subscribers / 20_000)
        cluster = Cluster(url, Path(logdir), fanout_batch_size=1000, job_lease_seconds=3)
        cluster.worker("worker0")
        cluster.worker("worker1")
        cluster.serve("api", port, scheduler=False)
        try:
            _get(f"http://127.0.0.1:{port}/healthz")  # the API is up before the restart
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # wait for the soon fan-out to be under way
                rows = query(url, "SELECT cursor FROM reminder_jobs WHERE kind = 'drop_soon'")
                if rows and rows[0][0] > 0:
                    break
                time.sleep(0.05)
            restart_seconds = restart_postgres()
            wait_until_done(url, timeout=120)
            health = _get(f"http://127.0.0.1:{port}/healthz")
            drop = _get(f"http://127.0.0.1:{port}/api/v1/drops/1")
        finally:
            cluster.stop_all()
        return Outcome(
            "pg-restart",
            subscribers,
            counts(url),
            {SOON: subscribers, LIVE: subscribers},
            time.monotonic() - started,
            {
                "PostgreSQL restart took": f"{restart_seconds:.1f}s",
                "API /healthz after": health,
                "API GET /drops/1 after": drop,
            },
        )


def _get(url: str) -> str:
    for _ in range(40):
        try:
            r = httpx.get(url, timeout=5)
            return f"{r.status_code} {r.text[:60]}"
        except httpx.HTTPError:
            time.sleep(0.25)
    return "no answer"


def downtime(server: str, subscribers: int) -> Outcome:
    """Stop the whole service across both reminder times, start it again."""
    with scratch_database(server) as url, tempfile.TemporaryDirectory() as logdir:
        started = time.monotonic()
        port = free_port()
        launch = load(url, subscribers, soon_in=3.0, live_in=6.0)
        cluster = Cluster(url, Path(logdir), fanout_batch_size=5000)
        cluster.serve("api", port)
        cluster.worker("worker0")
        time.sleep(1.0)
        cluster.stop_all()  # down from T-5 s to T+2 s: across T-3 (soon) and T-0 (live)
        _sleep_until(launch + timedelta(seconds=2))
        cluster.serve("api", port)
        cluster.worker("worker0")
        try:
            wait_until_done(url, timeout=120)
        finally:
            cluster.stop_all()
        states = dict(query(url, "SELECT kind, state FROM reminder_jobs"))
        return Outcome(
            "downtime",
            subscribers,
            counts(url),
            {LIVE: subscribers},  # and no soon notice at all
            time.monotonic() - started,
            {"job states": states},
        )


def hang(server: str, subscribers: int) -> Outcome:
    """A worker is SIGSTOPped holding a claim; another takes over; the first is resumed."""
    with scratch_database(server) as url, tempfile.TemporaryDirectory() as logdir:
        started = time.monotonic()
        load(url, subscribers, soon_in=1.0, live_in=3600)  # only the soon notice is due
        cluster = Cluster(url, Path(logdir), fanout_batch_size=500, job_lease_seconds=2)
        sleepy = cluster.worker("sleepy")
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                rows = query(url, "SELECT cursor FROM reminder_jobs WHERE kind = 'drop_soon'")
                if rows and rows[0][0] > 0:
                    break
                time.sleep(0.02)
            cluster.signal("sleepy", signal.SIGSTOP)
            stopped_at = query(url, "SELECT cursor FROM reminder_jobs WHERE kind = 'drop_soon'")
            cluster.worker("rescuer")
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                state = query(url, "SELECT state FROM reminder_jobs WHERE kind = 'drop_soon'")
                if state[0][0] == "done":
                    break
                time.sleep(0.2)
            cluster.signal("sleepy", signal.SIGCONT)
            time.sleep(3.0)  # give the resumed worker every chance to deliver again
            alive = sleepy.poll() is None
        finally:
            cluster.stop_all()
        sleepy_log = (Path(logdir) / "sleepy.1.log").read_text(errors="replace")
        stopped_line = [
            line
            for line in sleepy_log.splitlines()
            if "no longer ours" in line or "unavailable" in line
        ]
        return Outcome(
            "hang",
            subscribers,
            counts(url),
            {SOON: subscribers},
            time.monotonic() - started,
            {
                "SIGSTOP at subscriber": stopped_at[0][0],
                "resumed worker still alive": alive,
                "resumed worker said": stopped_line[0].split(": ", 1)[-1]
                if stopped_line
                else "(nothing)",
            },
        )


PROFILES = {
    "full": {"kill": (200_000, 20), "pg-restart": 200_000, "downtime": 50_000, "hang": 50_000},
    "quick": {"kill": (20_000, 6), "pg-restart": 20_000, "downtime": 5_000, "hang": 5_000},
}


def run(scenario: str, server: str, profile: str, **overrides: Any) -> Outcome:
    p = PROFILES[profile]
    if scenario == "kill":
        n, kills = p["kill"]
        return kill_workers(
            server, overrides.get("subscribers") or n, overrides.get("kills") or kills
        )
    n = overrides.get("subscribers") or p[scenario]
    return {"pg-restart": pg_restart, "downtime": downtime, "hang": hang}[scenario](server, n)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("scenario", choices=["all", "kill", "pg-restart", "downtime", "hang"])
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="a PostgreSQL server")
    parser.add_argument("--quick", action="store_true", help="the short CI profile")
    parser.add_argument("--subscribers", type=int, default=None)
    parser.add_argument("--kills", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="also print each outcome as JSON")
    args = parser.parse_args()
    scenarios = (
        ["kill", "pg-restart", "downtime", "hang"] if args.scenario == "all" else [args.scenario]
    )
    failed = False
    for scenario in scenarios:
        outcome = run(
            scenario,
            args.database_url,
            "quick" if args.quick else "full",
            subscribers=args.subscribers,
            kills=args.kills,
        )
        print("\n".join(outcome.lines()), flush=True)
        if args.json:
            print(json.dumps(outcome.__dict__, default=str))
        failed |= not outcome.ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
