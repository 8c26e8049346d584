"""``dropbell bench launch``: a launch to N subscribers, released by the real scheduler, and
the inboxes read through the HTTP app afterwards.

Everything is bulk-loaded with set-based SQL (``generate_series`` on PostgreSQL, a
recursive CTE on SQLite; no Python list of a million anything): N subscribers of one
drop, and around them a realistic spread of other reminders — 2,000 drops that
launched in the past with their four notices released (leads of a day, an hour and
15 minutes, and the launch), 10 % of the shoppers with reminders on three of them, and
100 heavy shoppers with 1,000 reminders each, who have read nine in ten of their
notices. The launch is due a moment after the load; a real :class:`Scheduler` on the
system clock releases it (one notice row, one commit) and counts its audience. Then
1,000 random subscribers and the 100 heavy shoppers read their inbox and unread count
over HTTP (``httpx.ASGITransport`` against ``create_app``), and each must see the launch
exactly once.

Beside it, as baselines on the same data: the old design's write, one ``INSERT …
SELECT`` of the N per-subscriber rows into a scratch table shaped like the old
``notifications``; and the heavy shoppers' reads with the newest-first walk turned off
(every page joins all the notices they see), between their rounds with it.

The helpers at the top (throwaway databases, :func:`load_drop`) serve the other
benchmarks too (``benchmarks/live.py``, ``benchmarks/chaos.py``).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from dropbell.accounts.security import token_digest
from dropbell.clock import SystemClock
from dropbell.config import Settings
from dropbell.db import make_engine, make_sessionmaker, transaction
from dropbell.migrate import upgrade
from dropbell.models import Drop, Notification, ReminderJob
from dropbell.notifications.audience import covers
from dropbell.notifications.models import NoticeRead
from dropbell.reminders.models import LIVE, Reminder
from dropbell.reminders.scheduler import Released, Scheduler

START_DELAY = timedelta(seconds=2)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _param(when: datetime, postgres: bool) -> datetime | str:
    """A bind value for raw SQL: aware for asyncpg, UTCDateTime's text form for SQLite."""
    return when if postgres else when.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


async def throwaway_postgres(url: str) -> tuple[str, str]:
    """A new, empty database on the server of ``url``: (its URL, its name)."""
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    name = f"dropbell_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False), name


async def drop_postgres(url: str, name: str) -> None:
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


def _series(n: int, postgres: bool, start: int = 1) -> str:
    """SQL yielding the integers start..n as column ``x`` (set-based, no Python list)."""
    if postgres:
        return f"SELECT x FROM generate_series({start}, {n}) AS x"
    return (
        f"WITH RECURSIVE s(x) AS (SELECT {start} UNION ALL SELECT x + 1 FROM s WHERE x < {n})"
        " SELECT x FROM s"
    )


def _at(seconds: str, postgres: bool, base: str = ":base") -> str:
    """SQL for the time ``base`` (a bind parameter or a column) plus ``seconds`` (an SQL
    integer expression), in the form UTCDateTime stores (text on SQLite)."""
    if postgres:
        cast = f"CAST({base} AS timestamptz)" if base.startswith(":") else base
        return f"({cast} + ({seconds}) * interval '1 second')"
    return f"(strftime('%Y-%m-%d %H:%M:%S', {base}, ({seconds}) || ' seconds') || '.000000')"


def _base(when: datetime, postgres: bool) -> datetime | str:
    """The bind value of ``:base`` for :func:`_at` (whole seconds)."""
    when = when.astimezone(UTC).replace(microsecond=0)
    return when if postgres else when.replace(tzinfo=None).isoformat(sep=" ")


async def load_drop(
    url: str,
    n: int,
    launch_at: datetime,
    now: datetime,
    jobs: Sequence[tuple[str, datetime, int | None]] | None = None,
    offsets: str = "'900'",
) -> int:
    """Migrate ``url``, then load accounts 1..n (shoppers), a brand (n + 1), its drop (id 1)
    and post, one open reminder per shopper with ``offsets`` (an SQL expression of the
    shopper's id ``x``), and the drop's reminder jobs: (kind, due, lead) rows (default:
    the launch). Returns the first job's id."""
    postgres = url.startswith("postgresql")
    engine = make_engine(url)
    await upgrade(engine)
    async with engine.begin() as conn:
        p = {"now": _param(now, postgres), "launch": _param(launch_at, postgres)}
        await conn.execute(
            text(
                "INSERT INTO accounts (id, username, password_hash, display_name, country,"
                " language, timezone, is_partner, created_at) "
                f"SELECT x, 'bench' || x, '!', 'Shopper ' || x, 'US', 'en', 'UTC', false, :now "
                f"FROM ({_series(n, postgres)}) AS s"
            ),
            p,
        )
        brand = n + 1
        await conn.execute(
            text(
                "INSERT INTO accounts (id, username, password_hash, display_name, country,"
                " language, timezone, is_partner, created_at) VALUES (:id, 'bench_brand', '!',"
                " 'Bench brand', 'US', 'en', 'UTC', true, :now)"
            ),
            {**p, "id": brand},
        )
        await conn.execute(
            text(
                "INSERT INTO posts (id, author_id, text, created_at, like_count, repost_count,"
                " bookmark_count, share_count)"
                " VALUES (1, :brand, 'Bench drop #bench', :now, 0, 0, 0, 0)"
            ),
            {**p, "brand": brand},
        )
        await conn.execute(
            text(
                "INSERT INTO drops (id, brand_id, title, description, launch_at, tag, shop_url,"
                " post_id, reminder_count, schedule_version, created_at, updated_at)"
                " VALUES (1, :brand, 'Bench drop', '', :launch, 'bench',"
                " 'https://bench.example/', 1, :n, 0, :now, :now)"
            ),
            {**p, "brand": brand, "n": n},
        )
        await conn.execute(
            text(
                "INSERT INTO reminders (drop_id, account_id, offsets, created_at) "
                f"SELECT 1, x, {offsets}, :now FROM ({_series(n, postgres)}) AS s"
            ),
            p,
        )
        for job_id, (kind, due, lead) in enumerate(jobs or [(LIVE, launch_at, None)], start=1):
            await conn.execute(
                text(
                    "INSERT INTO reminder_jobs (id, drop_id, kind, lead_seconds, due_at, state,"
                    " delivered, attempts, created_at)"
                    " VALUES (:id, 1, :kind, :lead, :due, 'pending', 0, 0, :now)"
                ),
                {**p, "id": job_id, "kind": kind, "lead": lead, "due": _param(due, postgres)},
            )
        if postgres:
            for table in ("accounts", "posts", "drops", "reminder_jobs"):
                await _sync_sequence(conn, table)
    if postgres:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE reminders"))
            await conn.execute(text("CHECKPOINT"))
    await engine.dispose()
    return 1


async def _sync_sequence(conn: AsyncConnection, table: str) -> None:
    await conn.execute(
        text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    )


# --- the launch benchmark -----------------------------------------------------------------

OTHER_DROPS = 2_000  # drops 2 .. 2,001, launched in the past, every 20 minutes
LAUNCH_EVERY_S = 1_200
HEAVY_REMINDERS = 1_000  # per heavy shopper
HEAVY_ROUNDS = 3  # the heavy shoppers read three times each (their p99 is of 300 reads)
LEADS = (86_400, 3_600, 900)  # the released "soon" notices of every drop (and the launch)
# The leads chosen, by shopper id: on the launch drop, and on the other drops.
LAUNCH_DROP_LEADS = {0: "''", 1: "'900'", 2: "'3600,900'", 3: "'86400,3600,900'"}
OTHER_DROP_LEADS = {0: "'900'", 1: "'86400,900'", 2: "''"}


@dataclass(frozen=True)
class Layout:
    """Where things are, for the checks."""

    subscribers: int
    heavy: int
    launch_job: int
    brand: int


def _offsets_by(expr: str, choices: dict[int, str]) -> str:
    cases = " ".join(f"WHEN {k} THEN {v}" for k, v in choices.items())
    return f"CASE ({expr}) % {len(choices)} {cases} END"


async def _load_engine(url: str) -> AsyncEngine:
    """An engine for the bulk load. SQLite: foreign keys unchecked and no fsync while
    loading (the data is consistent by construction; the file is thrown away); the
    cache is kept small, so the benchmark's own memory stays what the app uses."""
    if not url.startswith("sqlite"):
        return make_engine(url, idle_in_transaction_seconds=3600)
    engine = create_async_engine(url)

    from sqlalchemy import event

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _: Any) -> None:
        cur = dbapi_conn.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=OFF",
            "foreign_keys=OFF",
            "cache_size=-32768",
            "temp_store=FILE",
        ):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    return engine


async def load_launch(
    url: str, n: int, heavy: int, base: datetime, say: Console
) -> tuple[Layout, dict[str, float]]:
    """Migrate ``url`` and bulk-load the launch's world (see the module docstring).

    Accounts 1..n are the launch drop's subscribers; 1..``heavy`` are also the heavy
    shoppers; n + 1 is the brand. Drop 1 is the launch (its launch job pending, due in a
    day until the caller moves it); drops 2.. launched in the past. Returns the layout and
    how long each step took.
    """
    pg = url.startswith("postgresql")
    d = OTHER_DROPS
    brand = n + 1
    steps: dict[str, float] = {}
    migrate_engine = make_engine(url)
    await upgrade(migrate_engine)
    await migrate_engine.dispose()
    engine = await _load_engine(url)
    p: dict[str, Any] = {"base": _base(base, pg)}
    # When drop {d} launches, in seconds from ``base``: drop 1 in a day (until the caller
    # moves it), the others in the past, the last 20 minutes ago.
    launch_of = f"CASE WHEN {{d}} = 1 THEN 86400 ELSE -({d} + 2 - {{d}}) * {LAUNCH_EVERY_S} END"
    # For the released notices, drop 1 launches at ``base``: its leads were due before.
    reminded_at = _at(f"({launch_of.format(d='drop_id')}) - 172800", pg)  # 2 days before
    released_of = f"CASE WHEN {{d}} = 1 THEN 0 ELSE -({d} + 2 - {{d}}) * {LAUNCH_EVERY_S} END"
    username = "'s' || lpad(CAST(x AS text), 9, '0')" if pg else "printf('s%09d', x)"
    launch_job = 4 * d + 4
    statements: list[tuple[str, str]] = [
        (
            "accounts",
            "INSERT INTO accounts (id, username, password_hash, display_name, country, language,"
            f" timezone, is_partner, created_at) SELECT x, {username}, '!', 'Shopper ' || x,"
            f" 'US', 'en', 'UTC', false, {_at('-2592000', pg)} FROM ({_series(n, pg)}) AS s",
        ),
        (
            "accounts",
            "INSERT INTO accounts (id, username, password_hash, display_name, country, language,"
            f" timezone, is_partner, created_at) VALUES ({brand}, 'bench_brand', '!',"
            f" 'Bench brand', 'US', 'en', 'UTC', true, {_at('-2592000', pg)})",
        ),
        (
            "drops",
            "INSERT INTO posts (id, author_id, text, created_at, like_count, repost_count,"
            f" bookmark_count, share_count) SELECT x, {brand}, 'Drop ' || x || ' #benchdrop' || x,"
            f" {_at('-2592000', pg)}, 0, 0, 0, 0 FROM ({_series(d + 1, pg)}) AS s",
        ),
        (
            "drops",
            "INSERT INTO drops (id, brand_id, title, description, launch_at, tag, shop_url,"
            " post_id, reminder_count, schedule_version, created_at, updated_at)"
            f" SELECT x, {brand}, 'Drop ' || x, '', {_at(launch_of.format(d='x'), pg)},"
            " 'benchdrop' || x, 'https://bench.example/' || x, x, 0, 0,"
            f" {_at('-2592000', pg)}, {_at('-2592000', pg)} FROM ({_series(d + 1, pg)}) AS s",
        ),
        # Every other drop's four notices (three leads and the launch), released and
        # counted long ago: jobs 1 .. 4d. Drop 1's three leads were released before the
        # load began (jobs 4d + 1 .. 4d + 3); its launch (job 4d + 4) is what we measure.
        (
            "notices",
            "INSERT INTO reminder_jobs (id, drop_id, kind, lead_seconds, due_at, state,"
            " delivered, attempts, created_at, finished_at, counted_at)"
            " SELECT id, drop_id, CASE WHEN lead_s IS NULL THEN 'drop_live' ELSE 'drop_soon' END,"
            f" lead_s, {_at('launch - COALESCE(lead_s, 0)', pg)}, 'done', 0, 1,"
            f" {_at('launch - 2592000', pg)}, {_at('launch - COALESCE(lead_s, 0) + 1', pg)},"
            f" {_at('launch - COALESCE(lead_s, 0) + 60', pg)} FROM (SELECT x AS id, drop_id,"
            f" lead_s, {released_of.format(d='drop_id')} AS launch FROM (SELECT x,"
            f" CASE WHEN x > {4 * d} THEN 1 ELSE 2 + (x - 1) / 4 END AS drop_id,"
            f" CASE (x - 1) % 4 WHEN 0 THEN {LEADS[0]} WHEN 1 THEN {LEADS[1]}"
            f" WHEN 2 THEN {LEADS[2]} END AS lead_s FROM ({_series(4 * d + 3, pg)}) AS s) AS j)"
            " AS k",
        ),
        (
            "notices",
            "INSERT INTO reminder_jobs (id, drop_id, kind, lead_seconds, due_at, state,"
            f" delivered, attempts, created_at) VALUES ({launch_job}, 1, 'drop_live', NULL,"
            f" {_at('86400', pg)}, 'pending', 0, 0, {_at('-2592000', pg)})",
        ),
        (
            "notices",
            "INSERT INTO notifications (account_id, type, drop_id, job_id, lead_seconds, due_at,"
            " created_at) SELECT NULL, kind, drop_id, id, lead_seconds, due_at, finished_at"
            " FROM reminder_jobs WHERE state = 'done' ORDER BY due_at, id",
        ),
        # The launch drop: every shopper, leads by id; 2 % changed their choice 12 hours
        # ago (a closed period that saw the day-ahead notice, then an open one).
        (
            "launch drop reminders",
            "INSERT INTO reminders (drop_id, account_id, offsets, created_at, ended_at)"
            f" SELECT 1, 50 * (x - 1) + 7, '86400', {_at('-259200', pg)}, {_at('-43200', pg)}"
            f" FROM ({_series((n - 7) // 50 + 1, pg)}) AS s",
        ),
        (
            "launch drop reminders",
            "INSERT INTO reminders (drop_id, account_id, offsets, created_at)"
            f" SELECT 1, x, {_offsets_by('x', LAUNCH_DROP_LEADS)},"
            f" CASE WHEN x % 50 = 7 THEN {_at('-43200', pg)} ELSE {_at('-172800', pg)} END"
            f" FROM ({_series(n, pg)}) AS s",
        ),
        # The heavy shoppers: 1,000 drops each, every lead.
        (
            "other reminders",
            "INSERT INTO reminders (drop_id, account_id, offsets, created_at)"
            f" SELECT drop_id, h, '86400,3600,900', {reminded_at}"
            f" FROM (SELECT h, 2 + ((h * 37 + j) % {d}) AS drop_id FROM (SELECT"
            f" 1 + (x - 1) / {HEAVY_REMINDERS} AS h, (x - 1) % {HEAVY_REMINDERS} AS j"
            f" FROM ({_series(heavy * HEAVY_REMINDERS, pg)}) AS s) AS a) AS b",
        ),
        # One shopper in ten (ids ending in 5, past the heavy ones): three drops each.
        (
            "other reminders",
            "INSERT INTO reminders (drop_id, account_id, offsets, created_at)"
            f" SELECT drop_id, a, {_offsets_by('a / 10', OTHER_DROP_LEADS)},"
            f" {reminded_at} FROM (SELECT a, 2 + ((a + j * 667) % {d}) AS drop_id FROM (SELECT"
            " 10 * ((x - 1) / 3 + 1) - 5 AS a, (x - 1) % 3 AS j"
            f" FROM ({_series(3 * (n // 10), pg, start=31)}) AS s) AS q) AS r",
        ),
        (
            "other reminders",
            "UPDATE drops SET reminder_count = (SELECT count(*) FROM reminders r"
            " WHERE r.drop_id = drops.id AND r.ended_at IS NULL)",
        ),
    ]
    async with engine.begin() as conn:
        if pg:
            # Foreign keys are unchecked while loading (consistent by construction).
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
        for step, sql in statements:
            t0 = time.perf_counter()
            await conn.execute(text(sql), p)
            steps[step] = steps.get(step, 0.0) + time.perf_counter() - t0
        t0 = time.perf_counter()
        # The heavy shoppers have read nine in ten of the notices they see.
        seen = (
            select(Reminder.account_id, Notification.id, Notification.created_at)
            .join(Notification, covers(Reminder, Notification))
            .where(
                Reminder.account_id <= heavy,
                Notification.account_id.is_(None),
                Notification.id % 10 != 0,
            )
        )
        await conn.execute(
            insert(NoticeRead).from_select(["account_id", "notification_id", "read_at"], seen)
        )
        steps["notice reads"] = time.perf_counter() - t0
        if pg:
            for table in ("accounts", "posts", "drops", "reminder_jobs"):
                await _sync_sequence(conn, table)
    t0 = time.perf_counter()
    async with engine.connect() as conn:
        if pg:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
            await conn.execute(text("CHECKPOINT"))
        else:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    steps["vacuum analyze" if pg else "checkpoint"] = time.perf_counter() - t0
    await engine.dispose()
    say.print("  " + ", ".join(f"{k} {v:.1f}s" for k, v in steps.items()))
    return Layout(n, heavy, launch_job, brand), steps


async def add_tokens(url: str, accounts: Sequence[int], now: datetime) -> None:
    """A bearer token ``bench-<id>`` for each of ``accounts`` (a sample: at most thousands)."""
    pg = url.startswith("postgresql")
    engine = make_engine(url)
    rows = [{"a": a, "h": token_digest(bench_token(a)), "now": _param(now, pg)} for a in accounts]
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO access_tokens (account_id, token_hash, platform, created_at)"
                " VALUES (:a, :h, 'ios', :now)"
            ),
            rows,
        )
    await engine.dispose()


def bench_token(account_id: int) -> str:
    return f"bench-{account_id}"


def pct(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


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


async def old_design_write(url: str, job_id: int, due: datetime) -> tuple[float, int]:
    """The old design's cost on the same data: the launch's N per-subscriber rows, written
    with one ``INSERT … SELECT`` into a scratch table shaped like the old ``notifications``
    (its key and both unique indexes). A lower bound: the old fan-out wrote the same rows
    in 50,000-row transactions. Returns (ms from the statement to its commit, rows)."""
    pg = url.startswith("postgresql")
    key = "id BIGSERIAL PRIMARY KEY" if pg else "id INTEGER NOT NULL PRIMARY KEY"
    when = "TIMESTAMPTZ" if pg else "DATETIME"
    ddl = [
        f"CREATE TABLE bench_old_notifications ({key}, account_id BIGINT NOT NULL,"
        " type VARCHAR(20) NOT NULL, drop_id BIGINT, job_id BIGINT, post_id BIGINT,"
        f" actor_id BIGINT, created_at {when} NOT NULL, read_at {when})",
        "CREATE UNIQUE INDEX bench_old_account_job ON bench_old_notifications (account_id, job_id)",
        "CREATE UNIQUE INDEX bench_old_social ON bench_old_notifications"
        " (account_id, type, post_id, actor_id) WHERE job_id IS NULL",
    ]
    engine = make_engine(url, idle_in_transaction_seconds=3600)
    try:
        async with engine.begin() as conn:
            for sql in ddl:
                await conn.execute(text(sql))
        t0 = time.perf_counter()
        async with engine.begin() as conn:
            result = await conn.execute(
                text(
                    "INSERT INTO bench_old_notifications (account_id, type, drop_id, job_id,"
                    " created_at) SELECT account_id, 'drop_live', drop_id, :job, :now"
                    " FROM reminders WHERE drop_id = 1 AND ended_at IS NULL"
                    " AND created_at <= :due ORDER BY account_id"
                ),
                {"job": job_id, "now": _param(due, pg), "due": _param(due, pg)},
            )
            rows = int(result.rowcount or 0)
        elapsed = (time.perf_counter() - t0) * 1000
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE bench_old_notifications"))
    finally:
        await engine.dispose()
    return elapsed, rows


async def launch(
    subscribers: int,
    database_url: str | None,
    json_out: bool,
    console: Console,
    *,
    sample: int = 1_000,
    heavy: int = 100,
    baseline: bool = True,
    seed: int | None = None,
) -> dict[str, Any]:
    """The benchmark; prints the figures (and with ``json_out`` a JSON last line)."""
    if subscribers < heavy + 10:
        raise SystemExit(f"--subscribers must be at least {heavy + 10}")
    tmpdir: Path | None = None
    pg_name: str | None = None
    if database_url is None:
        tmpdir = Path(tempfile.mkdtemp(prefix="dropbell-bench-"))
        url = f"sqlite+aiosqlite:///{tmpdir / 'bench.db'}"
    elif database_url.startswith("postgresql"):
        url, pg_name = await throwaway_postgres(database_url)
    else:
        url = database_url
    database = "postgresql" if url.startswith("postgresql") else "sqlite"
    settings = Settings(database_url=url)
    rng = random.Random(seed)
    try:
        console.print(f"Loading {subscribers:,} subscribers and the rest into {database} …")
        t0 = time.perf_counter()
        base = datetime.now(UTC)
        layout, steps = await load_launch(url, subscribers, heavy, base, console)
        shoppers = rng.sample(range(heavy + 1, subscribers + 1), min(sample, subscribers - heavy))
        warmup = rng.sample(range(heavy + 1, subscribers + 1), min(20, subscribers - heavy))
        await add_tokens(url, sorted({*shoppers, *warmup, *range(1, heavy + 1)}), base)
        load_seconds = time.perf_counter() - t0

        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        due = datetime.now(UTC) + START_DELAY
        async with transaction(sessions) as session:
            drop = await session.get_one(Drop, 1)
            drop.launch_at = due
            job = await session.get_one(ReminderJob, layout.launch_job)
            job.due_at = due
        console.print(f"Loaded in {load_seconds:.1f}s; the launch is due at {due:%H:%M:%S.%f} UTC")

        committed: list[tuple[Released, float]] = []
        landed = asyncio.Event()

        async def on_release(released: Released) -> None:
            committed.append((released, time.time()))  # listeners run after the commit
            landed.set()

        reader = Reader(settings)
        for account in warmup[:5]:  # first requests compile the app's statements
            await reader.get(account, "/api/v1/notifications?limit=1")
        # A shopper on the app at the launch: how soon it shows (the count comes after).
        # On a thread of its own (its own event loop, app and connections), so that its
        # requests take turns with the scheduler the way another process's would.
        counted_event = threading.Event()
        watcher = Watcher(settings, shoppers[0], warmup[0], due, counted_event)
        scheduler = Scheduler(sessions, SystemClock(), settings, worker_id="bench",
                              listeners=[on_release])  # fmt: skip
        stop = asyncio.Event()
        runner = asyncio.create_task(scheduler.run(stop))
        await asyncio.wait({asyncio.create_task(landed.wait()), runner},
                           return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        counted_at: datetime | None = None
        while counted_at is None:
            if runner.done():
                runner.result()  # the scheduler stopped: its error
                raise SystemExit("the scheduler stopped before the launch was counted")
            await asyncio.sleep(0.1)
            async with transaction(sessions) as session:
                job = await session.get_one(ReminderJob, layout.launch_job)
                counted_at = job.counted_at
        stop.set()
        scheduler.wake.set()
        await runner
        counted_event.set()
        watched = await asyncio.to_thread(watcher.result, 120)
        released, committed_at = next(c for c in committed if c[0].job_id == layout.launch_job)
        async with transaction(sessions) as session:
            job = await session.get_one(ReminderJob, layout.launch_job)
            notice = await session.get_one(Notification, released.notification_id)
            per_account = dict(
                (
                    await session.execute(
                        select(Reminder.account_id, func.count())
                        .join(Notification, covers(Reminder, Notification))
                        .where(
                            Notification.id == notice.id,
                            Reminder.account_id.in_([*shoppers, *range(1, heavy + 1)]),
                        )
                        .group_by(Reminder.account_id)
                    )
                ).all()
            )
        count_seconds = (counted_at - notice.created_at).total_seconds()
        due_to_released_ms = (committed_at - due.timestamp()) * 1000
        console.print(
            f"Released {due_to_released_ms:.1f} ms after due; audience {job.delivered:,}"
            f" counted in {count_seconds:.1f}s. Reading {len(shoppers):,} + {heavy} inboxes …"
        )

        heavies = list(range(1, heavy + 1))
        # The heavy shoppers' baseline (the join, no walk) between their rounds, in the
        # same run and on the same warm caches.
        phases = [
            ("random", shoppers),
            *[("heavy", heavies), ("heavy_join", heavies)] * HEAVY_ROUNDS,
        ]
        load_before = os.getloadavg()[0]
        reference = cpu_reference_ms()
        try:
            reads = await reader.read_inboxes(phases, notice.id, warmup)
        finally:
            await reader.close()
        load_after = os.getloadavg()[0]

        t0 = time.perf_counter()
        async with transaction(sessions) as session:
            twice = await session.scalar(
                select(func.count()).select_from(
                    select(Reminder.account_id)
                    .join(Notification, covers(Reminder, Notification))
                    .where(Notification.id == notice.id)
                    .group_by(Reminder.account_id)
                    .having(func.count() > 1)
                    .subquery()
                )
            )
        check_seconds = time.perf_counter() - t0
        await engine.dispose()
        old_ms, old_rows = (
            await old_design_write(url, layout.launch_job, due) if baseline else (None, None)
        )
    finally:
        if pg_name and database_url:
            await drop_postgres(database_url, pg_name)
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)

    everyone = Reads(
        inbox=[*reads["random"].inbox, *reads["heavy"].inbox],
        unread=[*reads["random"].unread, *reads["heavy"].unread],
        inbox_cpu=[*reads["random"].inbox_cpu, *reads["heavy"].inbox_cpu],
        unread_cpu=[*reads["random"].unread_cpu, *reads["heavy"].unread_cpu],
        db_cpu_ms=reads["random"].db_cpu_ms + reads["heavy"].db_cpu_ms,
    )
    reads_made = len(shoppers) + 2 * heavy * HEAVY_ROUNDS
    saw_once = sum(r.saw_once for r in reads.values())
    sampled = len(shoppers) + heavy
    covered_once = sum(1 for n in per_account.values() if n == 1)
    old_rate = old_rows / (old_ms / 1000) if old_ms and old_rows else None
    figures: dict[str, Any] = {
        "subscribers": subscribers,
        "database": database,
        "load_s": round(load_seconds, 1),
        "due_to_released_ms": round(due_to_released_ms, 1),
        "due_to_stamped_ms": round((notice.created_at - due).total_seconds() * 1000, 1),
        "due_to_visible_ms": round(watched.visible_ms, 1),
        "watch_reads": watched.reads,
        "watch_slowest_read_ms": round(watched.slowest_ms, 1),
        "watch_reads_while_counting": watched.reads_after,
        "slowest_read_while_counting_ms": round(watched.slowest_after_ms, 1),
        "count_s": round(count_seconds, 2),
        "audience": job.delivered,
        "sampled": sampled,
        "inbox_reads": reads_made,
        "saw_launch_once": saw_once,
        "covered_once": covered_once,
        "seen_twice_anywhere": twice,
        **everyone.figures(""),
        **reads["heavy"].figures("heavy_"),
        **reads["heavy_join"].figures("heavy_join_"),
        **reads["random"].figures("random_"),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "old_design_write_ms": round(old_ms, 1) if old_ms is not None else None,
        "old_design_rows": old_rows,
        "old_design_rows_per_s": round(old_rate) if old_rate else None,
        "load_average": [round(load_before, 2), round(load_after, 2)],
        "cpu_reference_ms": round(reference, 1),
        "check_s": round(check_seconds, 1),
        "load_steps_s": {k: round(v, 1) for k, v in steps.items()},
    }
    table = Table(title=f"dropbell bench launch · {subscribers:,} subscribers · {database}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("bulk load (every table, indexes, statistics)", f"{load_seconds:,.1f} s")
    table.add_row("due → launch notice released (committed)", f"{due_to_released_ms:,.1f} ms")
    table.add_row(
        "due → in a shopper's inbox (read every 5 ms from due)",
        f"{watched.visible_ms:,.1f} ms (slowest of {watched.reads} reads"
        f" {watched.slowest_ms:,.1f} ms)",
    )
    table.add_row(
        "then, while the audience was counted: slowest read",
        f"{watched.slowest_after_ms:,.1f} ms (of {watched.reads_after})",
    )
    table.add_row(
        "audience counted (after the release)", f"{job.delivered:,} in {count_seconds:.2f} s"
    )
    for label, kind in (
        ("random subscribers", "random"),
        ("heavy shoppers", "heavy"),
        ("heavy shoppers, baseline: the join (no walk)", "heavy_join"),
    ):
        r = reads[kind]
        f = r.figures("")
        table.add_row(
            f"inbox page, {label} (n={len(r.inbox)}), p50 / p99 / max",
            f"{f['inbox_p50_ms']:.1f} / {f['inbox_p99_ms']:.1f} / {f['inbox_max_ms']:.1f} ms",
        )
        table.add_row(
            f"unread count, {label}, p50 / p99 / max",
            f"{f['unread_p50_ms']:.1f} / {f['unread_p99_ms']:.1f} / {f['unread_max_ms']:.1f} ms",
        )
        table.add_row(
            f"CPU a request, {label}: inbox / unread (+ database server)",
            f"{f['inbox_cpu_p50_ms']:.1f} / {f['unread_cpu_p50_ms']:.1f}"
            f" (+ {f['db_cpu_ms_per_request']:.1f}) ms",
        )
    table.add_row(
        "load average before → after the reads (2 cores)", f"{load_before:.2f} → {load_after:.2f}"
    )
    table.add_row("CPU reference (a fixed Python loop, best of 5)", f"{reference:.0f} ms")
    table.add_row("reads that saw the launch exactly once", f"{saw_once:,} / {reads_made:,}")
    table.add_row("subscribers covered by more than one period", f"{twice:,}")
    table.add_row("peak RSS", f"{figures['peak_rss_mb']} MB")
    if old_ms is not None and old_rows is not None:
        table.add_row(
            "per-subscriber write (old design), same data",
            f"{old_rows:,} rows in {old_ms:,.0f} ms",
        )
    Console().print(table)
    failures = [failure for r in reads.values() for failure in r.failures]
    ok = (
        saw_once == reads_made
        and covered_once == sampled
        and twice == 0
        and job.delivered == subscribers
    )
    if not ok:
        for line in failures[:20]:
            console.print(f"[red]{line}[/]")
        console.print(
            f"[red]expected every read of {sampled:,} sampled shoppers to show the launch once"
            f" ({saw_once:,} of {reads_made:,} did; {covered_once:,} covered once) and an"
            f" audience of {subscribers:,} ({job.delivered:,}, {twice:,} twice)[/]"
        )
    if json_out:
        print(json.dumps(figures))
    if not ok:
        raise SystemExit(1)
    return figures
