"""``dropbell bench fanout``: N subscribers on one drop, the real scheduler fires the launch.

The subscribers are bulk-loaded with set-based SQL (no Python list of a million
anything); the launch job is due a moment after the load; a real Scheduler on
the system clock claims and fans it out. We then count the notifications and
read the delivery records to report how long after the due time the last one
was committed.
"""

from __future__ import annotations

import asyncio
import json
import resource
import shutil
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select, text, type_coerce
from sqlalchemy.engine import make_url

from dropbell.clock import SystemClock
from dropbell.config import Settings
from dropbell.db import UTCDateTime, make_engine, make_sessionmaker, transaction
from dropbell.migrate import upgrade
from dropbell.models import Delivery, Notification, ReminderJob
from dropbell.reminders.models import DONE, LIVE
from dropbell.reminders.scheduler import Scheduler

START_DELAY = timedelta(seconds=2)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _param(when: datetime, postgres: bool) -> datetime | str:
    """A bind value for raw SQL: aware for asyncpg, UTCDateTime's text form for SQLite."""
    return when if postgres else when.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


async def throwaway_postgres(url: str) -> tuple[str, str]:
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    name = f"dropbell_bench_{int(time.time())}"
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False), name


async def drop_postgres(url: str, name: str) -> None:
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


def _series(n: int, postgres: bool) -> str:
    """SQL yielding the integers 1..n as column ``x`` (set-based, no Python list)."""
    if postgres:
        return f"SELECT x FROM generate_series(1, {n}) AS x"
    return (
        f"WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < {n})"
        " SELECT x FROM s"
    )


async def load_drop(
    url: str,
    n: int,
    launch_at: datetime,
    now: datetime,
    jobs: Sequence[tuple[str, datetime]] | None = None,
) -> int:
    """Migrate ``url``, then load accounts 1..n (shoppers), a brand, its drop (id 1) and
    post, n reminders, and the drop's reminder jobs (default: the launch). Returns the
    first job's id."""
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
                "INSERT INTO reminders (drop_id, account_id, created_at) "
                f"SELECT 1, x, :now FROM ({_series(n, postgres)}) AS s"
            ),
            p,
        )
        for job_id, (kind, due) in enumerate(jobs or [(LIVE, launch_at)], start=1):
            await conn.execute(
                text(
                    "INSERT INTO reminder_jobs (id, drop_id, kind, due_at, state, cursor,"
                    " delivered, attempts, created_at)"
                    " VALUES (:id, 1, :kind, :due, 'pending', 0, 0, 0, :now)"
                ),
                {**p, "id": job_id, "kind": kind, "due": _param(due, postgres)},
            )
        if postgres:
            for table in ("accounts", "posts", "drops", "reminder_jobs"):
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    if postgres:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE reminders"))
            await conn.execute(text("CHECKPOINT"))
    await engine.dispose()
    return 1


async def fanout(
    subscribers: int,
    database_url: str | None,
    json_out: bool,
    batch_size: int | None,
    console: Console,
) -> None:
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
    if batch_size:
        settings.fanout_batch_size = batch_size
    try:
        console.print(f"Loading {subscribers:,} subscribers into {database} …")
        t0 = time.perf_counter()
        load_started = datetime.now(UTC)
        # Due a moment after the load finishes: estimated, then moved if the load ran late.
        job_id = await load_drop(url, subscribers, load_started + timedelta(days=1), load_started)
        load_seconds = time.perf_counter() - t0
        due = datetime.now(UTC) + START_DELAY
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        async with transaction(sessions) as session:
            job = await session.get_one(ReminderJob, job_id)
            job.due_at = due
        console.print(
            f"Loaded in {load_seconds:.1f}s; launch due at {due:%H:%M:%S.%f} UTC; "
            f"scheduler batch size {settings.fanout_batch_size:,}"
        )
        scheduler = Scheduler(sessions, SystemClock(), settings, worker_id="bench")
        stop = asyncio.Event()
        runner = asyncio.create_task(scheduler.run(stop))
        while True:
            await asyncio.sleep(0.05)
            async with transaction(sessions) as session:
                state = await session.scalar(
                    select(ReminderJob.state).where(ReminderJob.id == job_id)
                )
            if state == DONE:
                break
            if runner.done():
                runner.result()
        stop.set()
        await runner
        async with transaction(sessions) as session:
            count = await session.scalar(
                select(func.count()).select_from(Notification).where(Notification.job_id == job_id)
            )
            first, last, batches = (
                await session.execute(
                    select(
                        type_coerce(func.min(Delivery.delivered_at), UTCDateTime),
                        type_coerce(func.max(Delivery.delivered_at), UTCDateTime),
                        func.count(),
                    ).where(Delivery.job_id == job_id)
                )
            ).one()
        await engine.dispose()
    finally:
        if pg_name and database_url:
            await drop_postgres(database_url, pg_name)
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)

    due_to_last_ms = (last - due).total_seconds() * 1000
    due_to_first_ms = (first - due).total_seconds() * 1000
    rate = subscribers / max(1e-9, due_to_last_ms / 1000)
    figures = {
        "subscribers": subscribers,
        "database": database,
        "due_to_last_ms": round(due_to_last_ms, 1),
        "notifications_per_s": round(rate),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }
    table = Table(title=f"dropbell bench fanout · {subscribers:,} subscribers · {database}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("launch notifications", f"{count:,}")
    table.add_row("batches", f"{batches}")
    table.add_row("due → first batch committed", f"{due_to_first_ms:,.0f} ms")
    table.add_row("due → last batch committed", f"{due_to_last_ms:,.0f} ms")
    table.add_row("notifications / s (from due)", f"{rate:,.0f}")
    table.add_row("peak RSS", f"{figures['peak_rss_mb']} MB")
    Console().print(table)
    if count != subscribers:
        console.print(f"[red]expected {subscribers:,} notifications, found {count:,}[/]")
        raise SystemExit(1)
    if json_out:
        print(json.dumps(figures))
