"""A drop's analytics at 100,000 reminders: the stats, the console's analytics page, its
CSV and the console's list, timed.

    PYTHONPATH=src python benchmarks/analytics.py [--shoppers 100000] [--database-url URL]

runs on SQLite (a scratch file) and on PostgreSQL (a scratch database
``dropbell_bench_analytics`` on 127.0.0.1:5432, created and dropped here), or only on the
databases given. For each it builds the schema with the migrations, creates a brand and a
drop through the API (``httpx.ASGITransport`` against ``create_app``, a fake clock), then
bulk-loads in SQL N shoppers whose Remind me falls over the 72 hours before the launch
(one in ten with a second period: a change of leads), releases the drop's notices with
the real scheduler (a lead and the launch: one row each), and adds opens (a third of the
shoppers in the inbox, a tenth by a push), page visits from posts and tag pages, and
shop clicks (a tenth of the shoppers, some twice; 5,000 visitors without an account).
Then it times each page 5 times and prints the median and the slowest, in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from dropbell.accounts import service as accounts
from dropbell.app import create_app
from dropbell.clock import FakeClock
from dropbell.config import Settings
from dropbell.db import make_engine, transaction
from dropbell.migrate import upgrade
from dropbell.reminders.scheduler import Scheduler

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/dropbell_bench_analytics"
START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
RUNS = 5


def _series(n: int, pg: bool, start: int = 1) -> str:
    if pg:
        return f"SELECT x FROM generate_series({start}, {n}) AS x"
    return (
        f"WITH RECURSIVE s(x) AS (SELECT {start} UNION ALL SELECT x + 1 FROM s WHERE x < {n})"
        " SELECT x FROM s"
    )


def _at(seconds: str, pg: bool) -> str:
    """The launch moment :base plus ``seconds``, as UTCDateTime stores it."""
    if pg:
        return f"(CAST(:base AS timestamptz) + ({seconds}) * interval '1 second')"
    return f"(strftime('%Y-%m-%d %H:%M:%S', :base, ({seconds}) || ' seconds') || '.000000')"


async def _load(url: str, drop_id: int, brand: int, n: int, launch: datetime) -> None:
    pg = not url.startswith("sqlite")
    first = brand + 1  # account ids after the brand's
    base = launch if pg else launch.replace(tzinfo=None).isoformat(sep=" ")
    p = {"base": base, "drop": drop_id}
    before = f"(1 + (x * 7919) % {72 * 3600 - 1})"  # spread over the 72 h before launch
    statements = [
        "INSERT INTO accounts (id, username, password_hash, display_name, country, language,"
        " timezone, is_partner, created_at) SELECT x, 'bench' || x, '!', 'Shopper ' || x,"
        f" 'US', 'en', 'UTC', false, {_at('-864000', pg)}"
        f" FROM ({_series(first + n - 1, pg, first)}) AS s",
        # One in ten changed their leads once: two periods, the first one ended.
        "INSERT INTO reminders (drop_id, account_id, offsets, created_at, ended_at)"
        f" SELECT :drop, x, '3600', {_at('-' + before, pg)}, {_at('-' + before + ' + 60', pg)}"
        f" FROM ({_series(first + n - 1, pg, first)}) AS s WHERE x % 10 = 0",
        "INSERT INTO reminders (drop_id, account_id, offsets, created_at)"
        f" SELECT :drop, x, '900', {_at('-' + before + ' + 60', pg)}"
        f" FROM ({_series(first + n - 1, pg, first)}) AS s",
        f"UPDATE drops SET reminder_count = {n} WHERE id = :drop",
    ]
    engine = make_engine(url)
    async with engine.begin() as conn:
        for sql in statements:
            await conn.execute(text(sql), p)
    await engine.dispose()


async def _activity(url: str, drop_id: int, brand: int, n: int, now: datetime) -> None:
    pg = not url.startswith("sqlite")
    first, last = brand + 1, brand + n
    stamp = now if pg else now.replace(tzinfo=None).isoformat(sep=" ")
    p = {"drop": drop_id, "now": stamp}
    key = "md5(x || '')" if pg else "hex(randomblob(16))"
    notice = f"(SELECT max(id) FROM notifications WHERE drop_id = {drop_id})"
    statements = [
        "INSERT INTO drop_opens (notification_id, account_id, drop_id, opened_at)"
        f" SELECT {notice}, x, :drop, :now FROM ({_series(last, pg, first)}) AS s"
        " WHERE x % 3 = 0",
        "INSERT INTO drop_visits (drop_id, source, account_id, visitor_key, created_at)"
        f" SELECT :drop, CASE x % 4 WHEN 0 THEN 'push' WHEN 1 THEN 'post' WHEN 2 THEN 'tag'"
        f" ELSE 'drop' END, x, {key}, :now FROM ({_series(last, pg, first)}) AS s"
        " WHERE x % 5 < 2",
        "INSERT INTO shop_clicks (drop_id, account_id, source, created_at, once_key,"
        f" visitor_key) SELECT :drop, x, 'notification', :now, {key}, {key}"
        f" FROM ({_series(last, pg, first)}) AS s WHERE x % 10 < 2",
        "INSERT INTO shop_clicks (drop_id, account_id, source, created_at, once_key,"
        f" visitor_key) SELECT :drop, NULL, 'tag', :now, 'anon' || x, 'v' || (x % 5000)"
        f" FROM ({_series(8000, pg)}) AS s",
    ]
    engine = make_engine(url)
    async with engine.begin() as conn:
        for sql in statements:
            await conn.execute(text(sql), p)
        if pg:
            await conn.execute(text("ANALYZE"))
    await engine.dispose()


async def _time(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> list[float]:
    took = []
    for _ in range(RUNS):
        t = time.perf_counter()
        r = await client.get(path, headers=headers)
        took.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return took


async def run(url: str, n: int) -> None:
    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()
    clock = FakeClock(START)
    settings = Settings(
        database_url=url, public_url="http://bench.test", rate_limit_signup="off",
        rate_limit_token="off", rate_limit_remind="off", rate_limit_post="off",
    )  # fmt: skip
    app = create_app(settings, clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench.test") as c:
        body = {"username": "bench_brand", "password": PASSWORD, "country": "US",
                "language": "en", "timezone": "UTC"}  # fmt: skip
        brand = (await c.post("/api/v1/accounts", json=body)).json()["id"]
        async with transaction(app.state.sessionmaker) as session:
            await accounts.approve_partner(session, "bench_brand", ["shop.example"])
        login = {"username": "bench_brand", "password": PASSWORD, "platform": "ios"}
        token = (await c.post("/api/v1/auth/token", json=login)).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        launch = START + timedelta(hours=80)
        drop = {"title": "Bench drop", "launch_at": launch.isoformat(),
                "shop_url": "https://shop.example/x", "tag": "benchdrop"}  # fmt: skip
        drop_id = (await c.post("/api/v1/drops", json=drop, headers=auth)).json()["id"]
        t = time.perf_counter()
        await _load(url, drop_id, brand, n, launch)
        scheduler = Scheduler(app.state.sessionmaker, clock, settings, worker_id="bench")
        for moment in (launch - timedelta(minutes=15), launch):
            clock.set(moment)
            await scheduler.run_due()
        clock.set(launch + timedelta(hours=2))
        await _activity(url, drop_id, brand, n, clock.now())
        print(f"  loaded {n:,} shoppers and their activity in {time.perf_counter() - t:.1f} s")
        stats = (await c.get(f"/api/v1/drops/{drop_id}/stats", headers=auth)).json()
        print(f"  funnel {stats['funnel']}")
        for name, path in (
            ("GET /api/v1/drops/{id}/stats", f"/api/v1/drops/{drop_id}/stats"),
            ("GET /console/drops/{id} (the analytics page)", f"/console/drops/{drop_id}"),
            ("GET /console/drops/{id}/stats.csv", f"/console/drops/{drop_id}/stats.csv"),
            ("GET /console (the list)", "/console"),
        ):
            took = await _time(c, path, auth)
            print(f"  {name:48} median {statistics.median(took):7.1f}  max {max(took):7.1f} ms")
    await app.state.engine.dispose()


async def _with_scratch_postgres(n: int) -> None:
    admin = make_engine(
        make_url(POSTGRES_URL).set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    name = make_url(POSTGRES_URL).database
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        await run(POSTGRES_URL, n)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shoppers", type=int, default=100_000)
    parser.add_argument("--database-url", action="append")
    args = parser.parse_args()
    urls = args.database_url or ["sqlite", "postgresql"]
    for url in urls:
        print(f"{url.split(':')[0]}:")
        if url == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                asyncio.run(run(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", args.shoppers))
        elif url == "postgresql":
            asyncio.run(_with_scratch_postgres(args.shoppers))
        else:
            asyncio.run(run(url, args.shoppers))


if __name__ == "__main__":
    main()
