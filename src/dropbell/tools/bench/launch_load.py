"""The launch benchmark's data, bulk-loaded with set-based SQL (:mod:`.common`).

N subscribers of one drop, and around them a realistic spread of other reminders —
2,000 drops that launched in the past with their four notices released (leads of a
day, an hour and 15 minutes, and the launch), 10 % of the shoppers with reminders on
three of them, and 100 heavy shoppers with 1,000 reminders each, who have read nine in
ten of their notices. Beside it, the old design's write on the same data
(:func:`old_design_write`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.console import Console
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dropbell.accounts.security import token_digest
from dropbell.db import make_engine
from dropbell.migrate import upgrade
from dropbell.models import Notification
from dropbell.notifications.audience import covers
from dropbell.notifications.models import NoticeRead
from dropbell.reminders.models import Reminder
from dropbell.tools.bench.common import (
    at,
    base_param,
    load_engine,
    series,
    sync_sequence,
    time_param,
)

OTHER_DROPS = 2_000  # drops 2 .. 2,001, launched in the past, every 20 minutes
LAUNCH_EVERY_S = 1_200
HEAVY_REMINDERS = 1_000  # per heavy shopper
LEADS = (86_400, 3_600, 900)  # the released "soon" notices of every drop (and the launch)
# The leads chosen, by shopper id: on the launch drop, and on the other drops.
LAUNCH_DROP_LEADS = {0: "''", 1: "'900'", 2: "'3600,900'", 3: "'86400,3600,900'"}
OTHER_DROP_LEADS = {0: "'900'", 1: "'86400,900'", 2: "''"}
# Jobs 1 .. 4d are the other drops' notices, 4d + 1 .. 4d + 3 the launch drop's leads.
LAUNCH_JOB = 4 * OTHER_DROPS + 4
LONG_AGO = "-2592000"  # 30 days before ``base``: when the accounts, posts and drops were made
ACCOUNT_COLUMNS = (
    "INSERT INTO accounts (id, username, password_hash, display_name, country, language,"
    " timezone, is_partner, created_at)"
)

Statements = list[tuple[str, str]]  # (the step it is timed under, SQL)


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


def _launch_of(drop: str, first: int = 86400) -> str:
    """When ``drop`` (an SQL expression) launches, in seconds from ``base``: drop 1 at
    ``first`` (a day, until the caller moves it), the others in the past, the last 20
    minutes ago."""
    later = f"-({OTHER_DROPS} + 2 - {drop}) * {LAUNCH_EVERY_S}"
    return f"CASE WHEN {drop} = 1 THEN {first} ELSE {later} END"


def _accounts(n: int, pg: bool) -> Statements:
    username = "'s' || lpad(CAST(x AS text), 9, '0')" if pg else "printf('s%09d', x)"
    return [
        (
            "accounts",
            f"{ACCOUNT_COLUMNS} SELECT x, {username}, '!', 'Shopper ' || x,"
            f" 'US', 'en', 'UTC', false, {at(LONG_AGO, pg)} FROM ({series(n, pg)}) AS s",
        ),
        (
            "accounts",
            f"{ACCOUNT_COLUMNS} VALUES ({n + 1}, 'bench_brand', '!',"
            f" 'Bench brand', 'US', 'en', 'UTC', true, {at(LONG_AGO, pg)})",
        ),
    ]


def _drops(brand: int, pg: bool) -> Statements:
    d = OTHER_DROPS
    return [
        (
            "drops",
            "INSERT INTO posts (id, author_id, text, created_at, like_count, repost_count,"
            f" bookmark_count, share_count) SELECT x, {brand}, 'Drop ' || x || ' #benchdrop' || x,"
            f" {at(LONG_AGO, pg)}, 0, 0, 0, 0 FROM ({series(d + 1, pg)}) AS s",
        ),
        (
            "drops",
            "INSERT INTO drops (id, brand_id, title, description, launch_at, tag, shop_url,"
            " post_id, reminder_count, schedule_version, created_at, updated_at)"
            f" SELECT x, {brand}, 'Drop ' || x, '', {at(_launch_of('x'), pg)},"
            " 'benchdrop' || x, 'https://bench.example/' || x, x, 0, 0,"
            f" {at(LONG_AGO, pg)}, {at(LONG_AGO, pg)} FROM ({series(d + 1, pg)}) AS s",
        ),
    ]


def _notices(pg: bool) -> Statements:
    """Every other drop's four notices (three leads and the launch), released and counted
    long ago: jobs 1 .. 4d. Drop 1's three leads were released before the load began
    (jobs 4d + 1 .. 4d + 3); its launch (job 4d + 4) is what we measure."""
    d = OTHER_DROPS
    return [
        (
            "notices",
            "INSERT INTO reminder_jobs (id, drop_id, kind, lead_seconds, due_at, state,"
            " delivered, attempts, created_at, finished_at, counted_at)"
            " SELECT id, drop_id, CASE WHEN lead_s IS NULL THEN 'drop_live' ELSE 'drop_soon' END,"
            f" lead_s, {at('launch - COALESCE(lead_s, 0)', pg)}, 'done', 0, 1,"
            f" {at('launch - 2592000', pg)}, {at('launch - COALESCE(lead_s, 0) + 1', pg)},"
            f" {at('launch - COALESCE(lead_s, 0) + 60', pg)} FROM (SELECT x AS id, drop_id,"
            f" lead_s, {_launch_of('drop_id', first=0)} AS launch FROM (SELECT x,"
            f" CASE WHEN x > {4 * d} THEN 1 ELSE 2 + (x - 1) / 4 END AS drop_id,"
            f" CASE (x - 1) % 4 WHEN 0 THEN {LEADS[0]} WHEN 1 THEN {LEADS[1]}"
            f" WHEN 2 THEN {LEADS[2]} END AS lead_s FROM ({series(4 * d + 3, pg)}) AS s) AS j)"
            " AS k",
        ),
        (
            "notices",
            "INSERT INTO reminder_jobs (id, drop_id, kind, lead_seconds, due_at, state,"
            f" delivered, attempts, created_at) VALUES ({LAUNCH_JOB}, 1, 'drop_live', NULL,"
            f" {at('86400', pg)}, 'pending', 0, 0, {at(LONG_AGO, pg)})",
        ),
        (
            "notices",
            "INSERT INTO notifications (account_id, type, drop_id, job_id, lead_seconds, due_at,"
            " created_at) SELECT NULL, kind, drop_id, id, lead_seconds, due_at, finished_at"
            " FROM reminder_jobs WHERE state = 'done' ORDER BY due_at, id",
        ),
    ]


def _launch_reminders(n: int, pg: bool) -> Statements:
    """The launch drop: every shopper, leads by id; 2 % changed their choice 12 hours ago
    (a closed period that saw the day-ahead notice, then an open one)."""
    return [
        (
            "launch drop reminders",
            "INSERT INTO reminders (drop_id, account_id, offsets, created_at, ended_at)"
            f" SELECT 1, 50 * (x - 1) + 7, '86400', {at('-259200', pg)}, {at('-43200', pg)}"
            f" FROM ({series((n - 7) // 50 + 1, pg)}) AS s",
        ),
        (
            "launch drop reminders",
            "INSERT INTO reminders (drop_id, account_id, offsets, created_at)"
            f" SELECT 1, x, {_offsets_by('x', LAUNCH_DROP_LEADS)},"
            f" CASE WHEN x % 50 = 7 THEN {at('-43200', pg)} ELSE {at('-172800', pg)} END"
            f" FROM ({series(n, pg)}) AS s",
        ),
    ]


def _other_reminders(n: int, heavy: int, pg: bool) -> Statements:
    """The heavy shoppers (1,000 drops each, every lead) and one shopper in ten (ids
    ending in 5, past the heavy ones: three drops each); reminded two days before each
    drop launched."""
    d = OTHER_DROPS
    reminded_at = at(f"({_launch_of('drop_id')}) - 172800", pg)
    return [
        (
            "other reminders",
            "INSERT INTO reminders (drop_id, account_id, offsets, created_at)"
            f" SELECT drop_id, h, '86400,3600,900', {reminded_at}"
            f" FROM (SELECT h, 2 + ((h * 37 + j) % {d}) AS drop_id FROM (SELECT"
            f" 1 + (x - 1) / {HEAVY_REMINDERS} AS h, (x - 1) % {HEAVY_REMINDERS} AS j"
            f" FROM ({series(heavy * HEAVY_REMINDERS, pg)}) AS s) AS a) AS b",
        ),
        (
            "other reminders",
            "INSERT INTO reminders (drop_id, account_id, offsets, created_at)"
            f" SELECT drop_id, a, {_offsets_by('a / 10', OTHER_DROP_LEADS)},"
            f" {reminded_at} FROM (SELECT a, 2 + ((a + j * 667) % {d}) AS drop_id FROM (SELECT"
            " 10 * ((x - 1) / 3 + 1) - 5 AS a, (x - 1) % 3 AS j"
            f" FROM ({series(3 * (n // 10), pg, start=31)}) AS s) AS q) AS r",
        ),
        (
            "other reminders",
            "UPDATE drops SET reminder_count = (SELECT count(*) FROM reminders r"
            " WHERE r.drop_id = drops.id AND r.ended_at IS NULL)",
        ),
    ]


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
    migrate_engine = make_engine(url)
    await upgrade(migrate_engine)
    await migrate_engine.dispose()
    engine = await load_engine(url)
    statements = [
        *_accounts(n, pg),
        *_drops(n + 1, pg),
        *_notices(pg),
        *_launch_reminders(n, pg),
        *_other_reminders(n, heavy, pg),
    ]
    steps = await _run(engine, statements, {"base": base_param(base, pg)}, heavy, pg)
    t0 = time.perf_counter()
    await _settle(engine, pg)
    steps["vacuum analyze" if pg else "checkpoint"] = time.perf_counter() - t0
    await engine.dispose()
    say.print("  " + ", ".join(f"{k} {v:.1f}s" for k, v in steps.items()))
    return Layout(n, heavy, LAUNCH_JOB, n + 1), steps


async def _run(
    engine: AsyncEngine, statements: Statements, p: dict[str, Any], heavy: int, pg: bool
) -> dict[str, float]:
    """The statements and the heavy shoppers' read marks in one transaction; the seconds
    each step took."""
    steps: dict[str, float] = {}
    async with engine.begin() as conn:
        if pg:
            # Foreign keys are unchecked while loading (consistent by construction).
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
        for step, sql in statements:
            t0 = time.perf_counter()
            await conn.execute(text(sql), p)
            steps[step] = steps.get(step, 0.0) + time.perf_counter() - t0
        t0 = time.perf_counter()
        await _mark_read(conn, heavy)
        steps["notice reads"] = time.perf_counter() - t0
        if pg:
            for table in ("accounts", "posts", "drops", "reminder_jobs"):
                await sync_sequence(conn, table)
    return steps


async def _mark_read(conn: AsyncConnection, heavy: int) -> None:
    """The heavy shoppers have read nine in ten of the notices they see."""
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


async def _settle(engine: AsyncEngine, pg: bool) -> None:
    """Statistics and a checkpoint, so that the run starts on a database at rest."""
    async with engine.connect() as conn:
        if pg:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
            await conn.execute(text("CHECKPOINT"))
        else:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


async def add_tokens(
    url: str,
    accounts: Iterable[int],
    now: datetime,
    token: Callable[[int], str] | None = None,
) -> None:
    """A bearer token (``token(id)``, by default ``bench-<id>``) for each of ``accounts``
    (a sample: at most thousands)."""
    name = token or bench_token
    pg = url.startswith("postgresql")
    engine = make_engine(url)
    at_now = time_param(now, pg)
    rows = [{"a": a, "h": token_digest(name(a)), "now": at_now} for a in accounts]
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
                {"job": job_id, "now": time_param(due, pg), "due": time_param(due, pg)},
            )
            rows = int(result.rowcount or 0)
        elapsed = (time.perf_counter() - t0) * 1000
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE bench_old_notifications"))
    finally:
        await engine.dispose()
    return elapsed, rows
