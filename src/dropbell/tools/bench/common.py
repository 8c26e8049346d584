"""What the benchmarks share: a throwaway database to load, set-based SQL to load it
with (``generate_series`` on PostgreSQL, a recursive CTE on SQLite; no Python list of a
million anything), one drop and its subscribers (:func:`load_drop`, for
``benchmarks/live.py`` and ``benchmarks/chaos.py`` too), and the figures' arithmetic.
"""

from __future__ import annotations

import os
import resource
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from dropbell.db import make_engine
from dropbell.migrate import upgrade
from dropbell.reminders.models import LIVE

START_DELAY = timedelta(seconds=2)  # from the load's end to the launch being due


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def database_kind(url: str) -> str:
    """ "postgresql" or "sqlite", as the figures name the database."""
    return "postgresql" if url.startswith("postgresql") else "sqlite"


# --- throwaway databases ------------------------------------------------------------------


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


@asynccontextmanager
async def throwaway_database(database_url: str | None) -> AsyncIterator[str]:
    """The URL a benchmark loads: without ``database_url`` a SQLite file in a new
    temporary folder; with a PostgreSQL URL a new database on that server; any other URL
    as it is. The folder or the database is removed when the block ends."""
    tmpdir: Path | None = None
    pg_name: str | None = None
    if database_url is None:
        tmpdir = Path(tempfile.mkdtemp(prefix="dropbell-bench-"))
        url = f"sqlite+aiosqlite:///{tmpdir / 'bench.db'}"
    elif database_url.startswith("postgresql"):
        url, pg_name = await throwaway_postgres(database_url)
    else:
        url = database_url
    try:
        yield url
    finally:
        if pg_name and database_url:
            await drop_postgres(database_url, pg_name)
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)


async def load_engine(url: str) -> AsyncEngine:
    """An engine for the bulk load. SQLite: foreign keys unchecked and no fsync while
    loading (the data is consistent by construction; the file is thrown away); the
    cache is kept small, so the benchmark's own memory stays what the app uses."""
    if not url.startswith("sqlite"):
        return make_engine(url, idle_in_transaction_seconds=3600)
    engine = create_async_engine(url)

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


# --- set-based SQL ------------------------------------------------------------------------


def series(n: int, postgres: bool, start: int = 1) -> str:
    """SQL yielding the integers start..n as column ``x`` (set-based, no Python list)."""
    if postgres:
        return f"SELECT x FROM generate_series({start}, {n}) AS x"
    return (
        f"WITH RECURSIVE s(x) AS (SELECT {start} UNION ALL SELECT x + 1 FROM s WHERE x < {n})"
        " SELECT x FROM s"
    )


def at(seconds: str, postgres: bool, base: str = ":base") -> str:
    """SQL for the time ``base`` (a bind parameter or a column) plus ``seconds`` (an SQL
    integer expression), in the form UTCDateTime stores (text on SQLite)."""
    if postgres:
        cast = f"CAST({base} AS timestamptz)" if base.startswith(":") else base
        return f"({cast} + ({seconds}) * interval '1 second')"
    return f"(strftime('%Y-%m-%d %H:%M:%S', {base}, ({seconds}) || ' seconds') || '.000000')"


def base_param(when: datetime, postgres: bool) -> datetime | str:
    """The bind value of ``:base`` for :func:`at` (whole seconds)."""
    when = when.astimezone(UTC).replace(microsecond=0)
    return when if postgres else when.replace(tzinfo=None).isoformat(sep=" ")


def time_param(when: datetime, postgres: bool) -> datetime | str:
    """A bind value for raw SQL: aware for asyncpg, UTCDateTime's text form for SQLite."""
    return when if postgres else when.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


async def sync_sequence(conn: AsyncConnection, table: str) -> None:
    """PostgreSQL: ``table``'s id sequence continues after the ids loaded."""
    await conn.execute(
        text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    )


# --- one drop and its subscribers ---------------------------------------------------------

ACCOUNT_COLUMNS = (
    "INSERT INTO accounts (id, username, password_hash, display_name, country,"
    " language, timezone, is_partner, created_at) "
)


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
        p = {"now": time_param(now, postgres), "launch": time_param(launch_at, postgres)}
        await _load_people_and_drop(conn, n, offsets, postgres, p)
        for job_id, (kind, due, lead) in enumerate(jobs or [(LIVE, launch_at, None)], start=1):
            await conn.execute(
                text(
                    "INSERT INTO reminder_jobs (id, drop_id, kind, lead_seconds, due_at, state,"
                    " delivered, attempts, created_at)"
                    " VALUES (:id, 1, :kind, :lead, :due, 'pending', 0, 0, :now)"
                ),
                {**p, "id": job_id, "kind": kind, "lead": lead, "due": time_param(due, postgres)},
            )
        if postgres:
            for table in ("accounts", "posts", "drops", "reminder_jobs"):
                await sync_sequence(conn, table)
    if postgres:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE reminders"))
            await conn.execute(text("CHECKPOINT"))
    await engine.dispose()
    return 1


async def _load_people_and_drop(
    conn: AsyncConnection, n: int, offsets: str, postgres: bool, p: dict[str, Any]
) -> None:
    """:func:`load_drop`'s shoppers, brand, post, drop and reminders."""
    brand = n + 1
    await conn.execute(
        text(
            ACCOUNT_COLUMNS
            + f"SELECT x, 'bench' || x, '!', 'Shopper ' || x, 'US', 'en', 'UTC', false, :now "
            f"FROM ({series(n, postgres)}) AS s"
        ),
        p,
    )
    await conn.execute(
        text(
            ACCOUNT_COLUMNS + "VALUES (:id, 'bench_brand', '!',"
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
            f"SELECT 1, x, {offsets}, :now FROM ({series(n, postgres)}) AS s"
        ),
        p,
    )
