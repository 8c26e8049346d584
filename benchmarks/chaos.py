"""Chaos runs: real `dropbell worker` / `dropbell serve` processes on one PostgreSQL
database, killed mid-release, hung, cut off from the database, and stopped across reminder
times. Afterwards every subscriber must see exactly one of each notice that was due.

    python -m benchmarks.chaos all                  # the full profile (docs/reliability.md)
    python -m benchmarks.chaos kill --subscribers 200000 --kills 20
    python -m benchmarks.chaos pg-restart | downtime | hang
    python -m benchmarks.chaos all --quick          # the short profile CI runs

Options: --database-url names the PostgreSQL server (a throwaway database is made on
it and dropped afterwards).

A launch is read-time fan-out: each notice (a lead of an hour, one of 15 minutes, the
launch) is ONE row, released in one transaction, and a subscriber sees it through their
reminder. So "what each subscriber got" is counted the way the inbox finds it: the
notices of the drop joined to the reminders by ``notifications.audience.covers``, per
notice: ``lost`` = subscribers who chose it and do not see it, ``duplicated`` = sightings
beyond one per subscriber. Beside that, every released notice must be one row, counted
once (one ``deliveries`` row, equal to its audience), and a sample of subscribers reads
the inbox over HTTP (``GET /api/v1/notifications`` of a `dropbell serve`).

To kill or hang a worker at the moment that matters, the driver holds a table lock: with
``LOCK TABLE notifications IN SHARE MODE`` held, the worker that claims a due job (its
row locked ``FOR UPDATE``) blocks on inserting the notice, inside its transaction; the
driver sees it wait (``pg_locks``), finds which process it is (its client port) and kills
or stops exactly that one. ``deliveries`` does the same for the count after a release.
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
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil
from sqlalchemy import func, select, text, union_all
from sqlalchemy.orm import aliased

from dropbell.accounts.security import token_digest
from dropbell.db import make_engine
from dropbell.live.brokers import asyncpg_dsn
from dropbell.notifications.audience import covers
from dropbell.notifications.models import Notification
from dropbell.reminders.models import LIVE, SOON, Reminder
from dropbell.tools.bench.common import drop_postgres, load_drop, throwaway_postgres

DEFAULT_SERVER = os.environ.get(
    "DROPBELL_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")

# The drop's notices: (job id, kind, lead). Subscriber x chose the leads of OFFSETS.
HOUR, QUARTER, LAUNCH = "drop_soon/3600", "drop_soon/900", "drop_live"
JOBS = {HOUR: (1, SOON, 3600), QUARTER: (2, SOON, 900), LAUNCH: (3, LIVE, None)}
WARM_UP_JOB = 4  # the launch of drop 2 (no subscribers), due at once
OFFSETS = "CASE x % 3 WHEN 0 THEN '' WHEN 1 THEN '900' ELSE '3600,900' END"


def chose(account: int) -> set[str]:
    """The notices subscriber ``account`` is to see (OFFSETS; the launch reaches all)."""
    return {
        LAUNCH,
        *({QUARTER} if account % 3 else set()),
        *({HOUR} if account % 3 == 2 else set()),
    }


def audience(kind: str, n: int) -> int:
    """How many of subscribers 1..n chose ``kind``."""
    if kind == LAUNCH:
        return n
    if kind == QUARTER:
        return n - n // 3
    return (n + 1) // 3


@dataclass
class Outcome:
    scenario: str
    subscribers: int
    counts: dict[str, dict[str, int]]  # notice -> {"rows", "distinct"}: sightings, subscribers
    expected: dict[str, int]  # notice -> how many subscribers must see it
    seconds: float
    notes: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)  # must all hold

    def lost(self, kind: str) -> int:
        return self.expected.get(kind, 0) - self.counts.get(kind, {}).get("distinct", 0)

    def duplicated(self, kind: str) -> int:
        c = self.counts.get(kind, {})
        return c.get("rows", 0) - c.get("distinct", 0)

    @property
    def ok(self) -> bool:
        kinds = set(self.expected) | set(self.counts)
        clean = all(self.lost(k) == 0 and self.duplicated(k) == 0 for k in kinds)
        return clean and all(self.checks.values())

    def lines(self) -> list[str]:
        out = [f"[{self.scenario}] {self.subscribers:,} subscribers, {self.seconds:.1f}s"]
        for kind in sorted(set(self.expected) | set(self.counts)):
            rows = self.counts.get(kind, {}).get("rows", 0)
            out.append(
                f"  {kind:<14} expected {self.expected.get(kind, 0):>8,}  seen by {rows:>8,}"
                f"  lost = {self.lost(kind)}, duplicated = {self.duplicated(kind)}"
            )
        for key, value in self.notes.items():
            out.append(f"  {key}: {value}")
        for key, held in self.checks.items():
            out.append(f"  {key}: {'yes' if held else 'NO'}")
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

    def owner_of_port(self, port: int) -> str | None:
        """Which of our processes has the TCP connection whose local port is ``port``."""
        for name, proc in self.procs.items():
            with contextlib.suppress(psutil.Error):
                for conn in psutil.Process(proc.pid).net_connections(kind="tcp"):
                    if conn.laddr and conn.laddr.port == port:
                        return name
        return None

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


class Holder:
    """One connection of the driver's, on a thread of its own, that holds a table lock
    (``SHARE``: readers pass, the insert of a worker waits) until it is released."""

    def __init__(self, url: str, table: str) -> None:
        import asyncpg  # type: ignore[import-untyped]

        self.table = table
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.conn = self._run(asyncpg.connect(asyncpg_dsn(url)))
        self.locked = False

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def lock(self) -> None:
        self._run(self.conn.execute(f"BEGIN; LOCK TABLE {self.table} IN SHARE MODE"))
        self.locked = True

    def release(self) -> None:
        if self.locked:
            self.locked = False
            self._run(self.conn.execute("COMMIT"))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._run(self.conn.close(), timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


@contextlib.contextmanager
def scratch_database(server: str) -> Iterator[str]:
    url, name = asyncio.run(throwaway_postgres(server))
    try:
        yield url
    finally:
        asyncio.run(drop_postgres(server, name))


async def _query(url: str, sql: Any, **params: Any) -> list[Any]:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            statement = text(sql) if isinstance(sql, str) else sql
            result = await conn.execute(statement, params)
            rows = list(result.all()) if result.returns_rows else []
            await conn.commit()
            return rows
    finally:
        await engine.dispose()


def query(url: str, sql: Any, **params: Any) -> list[Any]:
    for attempt in range(60):  # the server may be restarting
        try:
            return asyncio.run(_query(url, sql, **params))
        except (OSError, Exception) as exc:
            if attempt == 59 or "does not exist" in str(exc):
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


def _kind(type_: str, lead: int | None) -> str:
    return type_ if lead is None else f"{type_}/{lead}"


def seen(url: str) -> dict[str, dict[str, int]]:
    """Per notice of drop 1: how many sightings, by how many subscribers — as the inbox
    finds them: the released notices joined to the reminders that cover them (and any
    per-subscriber row, which must not exist)."""
    notice, period = aliased(Notification), aliased(Reminder)
    released = (
        select(notice.type, notice.lead_seconds, period.account_id)
        .join_from(notice, period, covers(period, notice))
        .where(notice.drop_id == 1, notice.account_id.is_(None))
    )
    personal = select(Notification.type, Notification.lead_seconds, Notification.account_id).where(
        Notification.drop_id == 1, Notification.account_id.is_not(None)
    )
    every = union_all(released, personal).subquery()
    rows = query(
        url,
        select(
            every.c.type,
            every.c.lead_seconds,
            func.count(),
            func.count(func.distinct(every.c.account_id)),
        ).group_by(every.c.type, every.c.lead_seconds),
    )
    return {_kind(t, lead): {"rows": n, "distinct": d} for t, lead, n, d in rows}


def released_once(url: str, expected: dict[str, int]) -> dict[str, bool]:
    """Every notice that was due is one row, and was counted once, to its audience."""
    rows = query(
        url,
        "SELECT j.kind, j.lead_seconds, j.state, j.counted_at IS NOT NULL,"
        " (SELECT count(*) FROM notifications n WHERE n.job_id = j.id AND n.account_id IS NULL),"
        " (SELECT count(*) FROM deliveries d WHERE d.job_id = j.id),"
        " (SELECT max(d.count) FROM deliveries d WHERE d.job_id = j.id), j.delivered"
        " FROM reminder_jobs j WHERE j.drop_id = 1",
    )
    checks = {}
    for kind, lead, state, counted, notices, deliveries, count, delivered in rows:
        name = _kind(kind, lead)
        if name in expected:
            checks[f"{name}: one notice row, counted once to {expected[name]:,}"] = (
                state == "done"
                and counted
                and notices == 1
                and deliveries == 1
                and count == delivered == expected[name]
            )
        else:
            checks[f"{name}: never released ({state})"] = notices == 0
    return checks


def load(url: str, n: int, sample: int, seed: int | None = None) -> list[int]:
    """Drop 1 with subscribers 1..n (leads by id: OFFSETS) and its three notices, all due
    in a day (the driver brings each forward); a bearer token for ``sample`` of them."""
    now = datetime.now(UTC)
    later = now + timedelta(days=1)
    jobs = [(kind, later, lead) for _, kind, lead in JOBS.values()]
    asyncio.run(load_drop(url, n, later, now, jobs, offsets=OFFSETS))
    accounts = sorted(random.Random(seed).sample(range(1, n + 1), min(sample, n)))
    asyncio.run(_tokens(url, accounts, now))
    # A second drop, without subscribers, whose launch is already due: the first worker up
    # releases it, so its connection has the release's statements prepared (see hang).
    query(
        url,
        "INSERT INTO posts (id, author_id, text, created_at, like_count, repost_count,"
        " bookmark_count, share_count) VALUES (2, :brand, 'Warm-up #warmup', :now, 0, 0, 0, 0)",
        brand=n + 1,
        now=now,
    )
    query(
        url,
        "INSERT INTO drops (id, brand_id, title, description, launch_at, tag, shop_url, post_id,"
        " reminder_count, schedule_version, created_at, updated_at) VALUES (2, :brand,"
        " 'Warm-up', '', :now, 'warmup', 'https://bench.example/', 2, 0, 0, :now, :now)",
        brand=n + 1,
        now=now,
    )
    query(
        url,
        "INSERT INTO reminder_jobs (id, drop_id, kind, due_at, state, delivered, attempts,"
        " created_at) VALUES (4, 2, 'drop_live', :now, 'pending', 0, 0, :now)",
        now=now,
    )
    return accounts


async def _tokens(url: str, accounts: list[int], now: datetime) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO access_tokens (account_id, token_hash, platform, created_at)"
                " VALUES (:a, :h, 'ios', :now)"
            ),
            [{"a": a, "h": token_digest(f"chaos-{a}"), "now": now} for a in accounts],
        )
    await engine.dispose()


def due_now(url: str, kind: str) -> None:
    """Bring a notice's job forward to now (the launch moves the drop's launch with it)."""
    now = datetime.now(UTC)
    query(url, "UPDATE reminder_jobs SET due_at = :now WHERE id = :j", now=now, j=JOBS[kind][0])
    if kind == LAUNCH:
        query(url, "UPDATE drops SET launch_at = :now", now=now)


def wait_until_counted(url: str, kinds: list[str], timeout: float) -> None:
    ids = [JOBS[k][0] if k in JOBS else WARM_UP_JOB for k in kinds]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        (left,) = query(
            url,
            "SELECT count(*) FROM reminder_jobs WHERE id = ANY(:ids) AND"
            " (state = 'pending' OR (state = 'done' AND counted_at IS NULL))",
            ids=ids,
        )[0]
        if left == 0:
            return
        time.sleep(0.1)
    raise TimeoutError(f"{kinds} not released and counted after {timeout:.0f}s")


def wait_for_waiter(url: str, table: str, cluster: Cluster, timeout: float = 120) -> str:
    """The name of our process whose backend waits for ``table``'s lock (it holds a claim)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = query(
            url,
            "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            f" WHERE NOT l.granted AND l.relation = '{table}'::regclass"
            " AND a.datname = current_database()",
        )
        for (port,) in rows:
            name = cluster.owner_of_port(int(port))
            if name is not None:
                return name
        time.sleep(0.02)
    raise TimeoutError(f"no worker ran into the lock on {table} in {timeout:.0f}s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sleep_until(when: datetime) -> None:
    time.sleep(max(0.0, (when - datetime.now(UTC)).total_seconds()))


def _get(url: str, headers: dict[str, str] | None = None) -> httpx.Response | None:
    for _ in range(80):
        try:
            return httpx.get(url, timeout=10, headers=headers)
        except httpx.HTTPError:
            time.sleep(0.25)
    return None


def _answer(response: httpx.Response | None) -> str:
    return "no answer" if response is None else f"{response.status_code} {response.text[:60]}"


def read_inboxes(url: str, logdir: Path, accounts: list[int], due: set[str]) -> dict[str, int]:
    """A sample of subscribers reads the inbox over HTTP (a fresh `dropbell serve`): each
    must see each due notice they chose exactly once, and no other."""
    port = free_port()
    cluster = Cluster(url, logdir)
    cluster.serve("inbox-api", port, scheduler=False)
    lost = duplicated = extra = 0
    try:
        health = _get(f"http://127.0.0.1:{port}/healthz")
        if health is None or health.status_code != 200:
            raise RuntimeError(f"the inbox API did not come up: {_answer(health)}")
        for account in accounts:
            r = _get(
                f"http://127.0.0.1:{port}/api/v1/notifications?limit=80",
                {"Authorization": f"Bearer chaos-{account}"},
            )
            if r is None or r.status_code != 200:
                raise RuntimeError(f"inbox of {account}: {_answer(r)}")
            got: dict[str, int] = {}
            for item in r.json():
                if (item.get("drop") or {}).get("id") == 1:
                    name = _kind(item["type"], item.get("lead_seconds"))
                    got[name] = got.get(name, 0) + 1
            wanted = chose(account) & due
            lost += sum(1 for k in wanted if got.get(k, 0) == 0)
            duplicated += sum(n - 1 for n in got.values() if n > 1)
            extra += sum(1 for k in got if k not in wanted)
    finally:
        cluster.stop_all()
    return {"sampled": len(accounts), "lost": lost, "duplicated": duplicated, "extra": extra}


def finish(
    scenario: str,
    url: str,
    logdir: Path,
    n: int,
    sample: list[int],
    due: set[str],
    started: float,
    notes: dict[str, Any],
) -> Outcome:
    expected = {kind: audience(kind, n) for kind in due}
    inbox = read_inboxes(url, logdir, sample, due)
    checks = released_once(url, expected)
    checks[f"inbox API, {inbox['sampled']} subscribers: each due notice once, nothing else"] = (
        inbox["lost"] == inbox["duplicated"] == inbox["extra"] == 0
    )
    notes["inbox API sample (lost / duplicated / extra)"] = (
        f"{inbox['lost']} / {inbox['duplicated']} / {inbox['extra']}"
    )
    notes["job states"] = dict(
        (_kind(k, lead), state)
        for k, lead, state in query(
            url,
            "SELECT kind, lead_seconds, state FROM reminder_jobs WHERE drop_id = 1 ORDER BY id",
        )
    )
    return Outcome(scenario, n, seen(url), expected, time.monotonic() - started, notes, checks)


# --- scenarios -------------------------------------------------------------------------


def kill_workers(
    server: str, subscribers: int, kills: int, sample: int, workers: int = 3
) -> Outcome:
    """3 workers; each notice in turn comes due while the driver holds the lock its
    release (then its count) runs into, and the worker caught holding the claim is
    SIGKILLed and restarted; again and again, then the lock goes and the notice lands."""
    with scratch_database(server) as url, tempfile.TemporaryDirectory() as tmp:
        logdir = Path(tmp)
        started = time.monotonic()
        accounts = load(url, subscribers, sample)
        cluster = Cluster(url, logdir, job_lease_seconds=2)
        for i in range(workers):
            cluster.worker(f"worker{i}")
        notices, counts = Holder(url, "notifications"), Holder(url, "deliveries")
        hits = {"release": 0, "count": 0}
        try:
            for i, kind in enumerate((HOUR, QUARTER, LAUNCH)):
                share = kills // 3 + (1 if i < kills % 3 else 0)
                notices.lock()
                counts.lock()
                due_now(url, kind)
                for phase, holder, times in (
                    ("release", notices, (share + 1) // 2),
                    ("count", counts, share // 2),
                ):
                    for _ in range(times):
                        victim = wait_for_waiter(url, holder.table, cluster)
                        cluster.kill(victim)
                        cluster.worker(victim)
                        hits[phase] += 1
                        holder.release()  # the killed backend finds its client gone: rollback
                        holder.lock()  # and the next worker to claim runs into it again
                    holder.release()
                wait_until_counted(url, [kind], timeout=120)
        finally:
            notices.close()
            counts.close()
            cluster.stop_all()
        return finish(
            "kill",
            url,
            logdir,
            subscribers,
            accounts,
            {HOUR, QUARTER, LAUNCH},
            started,
            {
                "SIGKILLs mid-release (the worker held the claim and its unsaved notice)": hits[
                    "release"
                ],
                "SIGKILLs mid-count (after the release, before its count was saved)": hits["count"],
            },
        )


def restart_postgres() -> float:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    started = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
    )
    return time.monotonic() - started


def pg_restart(server: str, subscribers: int, sample: int) -> Outcome:
    """Restart the PostgreSQL server while a worker is half way through releasing the
    hour-ahead notice; the other notices come due after. Processes reconnect by themselves."""
    with scratch_database(server) as url, tempfile.TemporaryDirectory() as tmp:
        logdir = Path(tmp)
        started = time.monotonic()
        port = free_port()
        accounts = load(url, subscribers, sample)
        cluster = Cluster(url, logdir, job_lease_seconds=3)
        cluster.worker("worker0")
        cluster.worker("worker1")
        cluster.serve("api", port, scheduler=False)
        holder = Holder(url, "notifications")
        try:
            before = _get(f"http://127.0.0.1:{port}/healthz")  # the API is up before
            holder.lock()
            due_now(url, HOUR)
            caught = wait_for_waiter(url, "notifications", cluster)
            restart_seconds = restart_postgres()  # ends every session, the lock's too
            holder.locked = False
            wait_until_counted(url, [HOUR], timeout=120)
            due_now(url, QUARTER)
            wait_until_counted(url, [QUARTER], timeout=60)
            due_now(url, LAUNCH)
            wait_until_counted(url, [LAUNCH], timeout=60)
            health = _get(f"http://127.0.0.1:{port}/healthz")
            drop = _get(f"http://127.0.0.1:{port}/api/v1/drops/1")
        finally:
            holder.close()
            cluster.stop_all()
        return finish(
            "pg-restart",
            url,
            logdir,
            subscribers,
            accounts,
            {HOUR, QUARTER, LAUNCH},
            started,
            {
                "API /healthz before": _answer(before),
                "restarted while releasing": f"{caught} (held the claim)",
                "PostgreSQL restart took": f"{restart_seconds:.1f}s",
                "API /healthz after": _answer(health),
                "API GET /drops/1 after": _answer(drop),
            },
        )


def downtime(server: str, subscribers: int, sample: int) -> Outcome:
    """Stop the whole service across both leads' times and the launch, start it again:
    the launch lands once, no stale lead notice at all."""
    with scratch_database(server) as url, tempfile.TemporaryDirectory() as tmp:
        logdir = Path(tmp)
        started = time.monotonic()
        port = free_port()
        accounts = load(url, subscribers, sample)
        launch = datetime.now(UTC) + timedelta(seconds=6)
        for kind, before in ((HOUR, 4.0), (QUARTER, 3.0), (LAUNCH, 0.0)):
            query(
                url,
                "UPDATE reminder_jobs SET due_at = :due WHERE id = :j",
                due=launch - timedelta(seconds=before),
                j=JOBS[kind][0],
            )
        query(url, "UPDATE drops SET launch_at = :due", due=launch)
        cluster = Cluster(url, logdir)
        cluster.serve("api", port)
        cluster.worker("worker0")
        time.sleep(1.0)
        cluster.stop_all()  # down from T-5 s to T+2 s: across T-4, T-3 (leads) and T-0
        _sleep_until(launch + timedelta(seconds=2))
        cluster.serve("api", port)
        cluster.worker("worker0")
        try:
            wait_until_counted(url, [HOUR, QUARTER, LAUNCH], timeout=120)
        finally:
            cluster.stop_all()
        return finish("downtime", url, logdir, subscribers, accounts, {LAUNCH}, started, {})


def hang(server: str, subscribers: int, sample: int) -> Outcome:
    """A worker is SIGSTOPped half way through a release (claim held, notice inserted, not
    committed); PostgreSQL ends its idle transaction, a second worker releases; the first
    resumes and must not release again.

    The worker has one pooled connection, on which it has released the warm-up drop's
    launch already, so the release's statements are prepared there: the insert it is
    stopped in was sent whole (bind, execute, sync), and once the driver lets it through
    its session sits idle in the transaction. (Caught while *preparing* a statement, the
    session would stay "active", waiting for the rest of the message, out of reach of
    idle_in_transaction_session_timeout: see docs/reliability.md.)
    """
    with scratch_database(server) as url, tempfile.TemporaryDirectory() as tmp:
        logdir = Path(tmp)
        started = time.monotonic()
        accounts = load(url, subscribers, sample)  # only the hour-ahead notice comes due
        cluster = Cluster(url, logdir, job_lease_seconds=2, db_pool_size=1)
        sleepy = cluster.worker("sleepy")
        holder = Holder(url, "notifications")
        stopped_state = "?"
        released = False
        try:
            wait_until_counted(url, ["warm-up"], timeout=60)
            holder.lock()
            due_now(url, HOUR)
            caught = wait_for_waiter(url, "notifications", cluster)
            cluster.signal("sleepy", signal.SIGSTOP)
            holder.release()  # its insert goes through; then it sits in its transaction
            time.sleep(0.5)
            stopped_state = ", ".join(
                str(state)
                for (state,) in query(
                    url,
                    "SELECT state FROM pg_stat_activity WHERE datname = current_database()"
                    " AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()",
                )
            )
            cluster.worker("rescuer")
            with contextlib.suppress(TimeoutError):
                wait_until_counted(url, [HOUR], timeout=60)
                released = True
            cluster.signal("sleepy", signal.SIGCONT)
            time.sleep(3.0)  # give the resumed worker every chance to release again
            alive = sleepy.poll() is None
        finally:
            holder.close()
            cluster.stop_all()
        sleepy_log = (logdir / "sleepy.1.log").read_text(errors="replace")
        said = [line for line in sleepy_log.splitlines() if "unavailable" in line]
        outcome = finish(
            "hang",
            url,
            logdir,
            subscribers,
            accounts,
            {HOUR},
            started,
            {
                "SIGSTOPped mid-release": caught,
                "its session while stopped": stopped_state or "(ended)",
                "resumed worker still alive": alive,
                "resumed worker said": said[0].split(": ", 1)[-1] if said else "(nothing)",
            },
        )
        outcome.checks["released by the second worker within 60 s"] = released
        return outcome


PROFILES: dict[str, dict[str, Any]] = {
    "full": {
        "kill": (200_000, 20),
        "pg-restart": 200_000,
        "downtime": 50_000,
        "hang": 50_000,
        "sample": 200,
    },
    "quick": {
        "kill": (20_000, 6),
        "pg-restart": 20_000,
        "downtime": 5_000,
        "hang": 5_000,
        "sample": 50,
    },
}


def run(scenario: str, server: str, profile: str, **overrides: Any) -> Outcome:
    p = PROFILES[profile]
    sample = overrides.get("sample") or p["sample"]
    if scenario == "kill":
        n, kills = p["kill"]
        return kill_workers(
            server, overrides.get("subscribers") or n, overrides.get("kills") or kills, sample
        )
    n = overrides.get("subscribers") or p[scenario]
    scenarios = {"pg-restart": pg_restart, "downtime": downtime, "hang": hang}
    return scenarios[scenario](server, n, sample)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("scenario", choices=["all", "kill", "pg-restart", "downtime", "hang"])
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="a PostgreSQL server")
    parser.add_argument("--quick", action="store_true", help="the short CI profile")
    parser.add_argument("--subscribers", type=int, default=None)
    parser.add_argument("--kills", type=int, default=None)
    parser.add_argument("--sample", type=int, default=None, help="inboxes read over HTTP")
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
            sample=args.sample,
        )
        print("\n".join(outcome.lines()), flush=True)
        if args.json:
            print(json.dumps(outcome.__dict__, default=str))
        failed |= not outcome.ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
