"""``dropbell bench push``: N subscriptions, one launch notice, the real push worker.

The local push service (:mod:`dropbell.push.testservice`) runs in its own process on
127.0.0.1 and checks and decrypts one push in a thousand (the rest it answers after
reading them). N shoppers with a reminder and a push subscription each are
bulk-loaded with set-based SQL; one launch notice is released and its push job
queued, due a moment later; a real :class:`PushWorker` on the system clock claims
and pushes it. Then, in the same run, the same HTTP client (same pool, same
concurrency, same batches) posts unencrypted bodies of the same size to the same
service: the raw rate this machine allows. ``--profile FILE`` writes a cProfile of
the push run.
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import multiprocessing
import pstats
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select, text, type_coerce

from dropbell.clock import SystemClock
from dropbell.config import Settings
from dropbell.db import UTCDateTime, make_engine, make_sessionmaker, transaction
from dropbell.migrate import upgrade
from dropbell.notifications.models import Notification
from dropbell.push import jobs
from dropbell.push.models import DeliveryState, JobState, PushDelivery, PushJob
from dropbell.push.schemas import DEFAULT_ALERTS
from dropbell.push.testservice import derive_keys, serve_in_process
from dropbell.tools.bench.common import (
    START_DELAY,
    database_kind,
    peak_rss_mb,
    series,
    sync_sequence,
    throwaway_database,
    time_param,
)

KEY_POOL = 1000  # distinct browser key pairs (each push is still encrypted on its own)
SEED = "dropbell-bench"


async def _exec(conn: Any, sql: str, params: dict[str, Any] | None = None) -> None:
    await conn.execute(text(sql), params or {})


# Set-based loading: {series} yields 1..n as x.
LOAD = (
    "INSERT INTO accounts (id, username, password_hash, display_name, country, language,"
    " timezone, is_partner, created_at) SELECT x, 'bench' || x, '!', 'Shopper ' || x, 'US',"
    " 'en', 'UTC', false, :now FROM ({series}) AS s",
    "INSERT INTO accounts (id, username, password_hash, display_name, country, language,"
    " timezone, is_partner, created_at) VALUES (:brand, 'bench_brand', '!', 'Bench brand',"
    " 'US', 'en', 'UTC', true, :now)",
    "INSERT INTO posts (id, author_id, text, created_at, like_count, repost_count,"
    " bookmark_count, share_count) VALUES (1, :brand, 'Bench drop #bench', :now, 0, 0, 0, 0)",
    "INSERT INTO drops (id, brand_id, title, description, launch_at, tag, shop_url, post_id,"
    " reminder_count, schedule_version, created_at, updated_at) VALUES (1, :brand,"
    " 'Bench drop', '', :launch, 'bench', 'https://bench.example/', 1, 0, 0, :now, :now)",
    "INSERT INTO reminders (drop_id, account_id, offsets, created_at)"
    " SELECT 1, x, '900', :now FROM ({series}) AS s",
    "INSERT INTO access_tokens (id, account_id, token_hash, platform, created_at)"
    " SELECT x, x, 'bench' || x, 'web', :now FROM ({series}) AS s",
)
SUBSCRIPTIONS = (
    "INSERT INTO push_subscriptions (id, account_id, access_token_id, endpoint, p256dh, auth,"
    " alerts, created_at, updated_at) SELECT x, x, x,"
    " :origin || '/push/k' || (x % {pool}) || '/s' || x, k.p256dh, k.auth, {alerts}, :now, :now"
    " FROM ({series}) AS s JOIN bench_keys k ON k.k = x % {pool}"
)


async def load(url: str, n: int, origin: str, now: datetime) -> None:
    """Accounts 1..n each with a token, a reminder on drop 1 and a push subscription."""
    pg = url.startswith("postgresql")
    engine = make_engine(url)
    await upgrade(engine)
    ids = series(n, pg)
    p = {
        "now": time_param(now, pg),
        "launch": time_param(now + timedelta(days=1), pg),
        "brand": n + 1,
    }
    async with engine.begin() as conn:
        for statement in LOAD:
            await _exec(conn, statement.format(series=ids), p)
        await _load_subscriptions(conn, ids, origin, pg, p)
        if pg:
            for table in ("accounts", "posts", "drops", "access_tokens", "push_subscriptions"):
                await sync_sequence(conn, table)
    if pg:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await _exec(conn, "VACUUM ANALYZE")
    await engine.dispose()


async def _load_subscriptions(
    conn: Any, series: str, origin: str, pg: bool, p: dict[str, Any]
) -> None:
    await _exec(
        conn,
        "CREATE TEMPORARY TABLE bench_keys (k INTEGER PRIMARY KEY, p256dh VARCHAR(100),"
        " auth VARCHAR(32))",
    )
    pool = [derive_keys(SEED, f"k{i}") for i in range(KEY_POOL)]
    await conn.execute(
        text("INSERT INTO bench_keys (k, p256dh, auth) VALUES (:k, :p256dh, :auth)"),
        [{"k": i, "p256dh": key.p256dh, "auth": key.auth} for i, key in enumerate(pool)],
    )
    alerts = "CAST(:alerts AS json)" if pg else ":alerts"
    await _exec(
        conn,
        SUBSCRIPTIONS.format(series=series, pool=KEY_POOL, alerts=alerts),
        {**p, "origin": origin, "alerts": json.dumps(DEFAULT_ALERTS)},
    )


async def release(sessions: Any, due: datetime) -> int:
    """The launch notice of drop 1, released now and due at ``due``, and its push job."""
    async with transaction(sessions) as session:
        notice = Notification(
            account_id=None, type="drop_live", drop_id=1, due_at=due, created_at=due
        )
        session.add(notice)
        await session.flush()
        await jobs.enqueue(
            session,
            notification_id=notice.id,
            drop_id=1,
            kind="drop_live",
            due_at=due,
            expires_at=due + jobs.LIVE_TTL,
        )
        return notice.id


async def push_run(sessions: Any, settings: Settings, notice: int, profile: Path | None) -> None:
    """Run a real push worker until the notice's job is done."""
    worker = jobs.PushWorker(sessions, SystemClock(), settings, worker_id="bench")
    stop = asyncio.Event()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    runner = asyncio.create_task(worker.run(stop))
    try:
        while True:
            await asyncio.sleep(0.05)
            async with transaction(sessions) as session:
                state = await session.scalar(
                    select(PushJob.state).where(PushJob.notification_id == notice)
                )
            if state == JobState.DONE:
                break
            if runner.done():
                runner.result()
    finally:
        stop.set()
        await runner
        await worker.aclose()
        if profiler and profile:
            profiler.disable()
            profiler.dump_stats(profile)


async def raw_rate(settings: Settings, origin: str, n: int, size: int) -> float:
    """The same client, pool, concurrency and batches, posting unencrypted bodies."""
    from dropbell.push.sender import Sender

    sender = Sender(settings, SystemClock())
    client = sender._client()
    gate = asyncio.Semaphore(settings.push_concurrency)
    body = b"x" * size
    headers = {"TTL": "3600", "Urgency": "high", "Topic": "drop-1"}

    async def post() -> None:
        async with gate:
            r = await client.post(f"{origin}/raw", content=body, headers=headers)
            r.raise_for_status()

    started = time.perf_counter()
    try:
        for low in range(0, n, settings.push_batch_size):
            await asyncio.gather(*(post() for _ in range(min(settings.push_batch_size, n - low))))
    finally:
        await client.aclose()
    return n / (time.perf_counter() - started)


async def ledger_figures(sessions: Any, notice: int) -> dict[str, Any]:
    async with transaction(sessions) as session:
        sent, first, last = (
            await session.execute(
                select(
                    func.count(),
                    func.min(PushDelivery.lateness_ms),
                    func.max(PushDelivery.lateness_ms),
                ).where(
                    PushDelivery.notification_id == notice, PushDelivery.state == DeliveryState.SENT
                )
            )
        ).one()
        body_at = await session.scalar(
            select(type_coerce(func.max(PushDelivery.sent_at), UTCDateTime)).where(
                PushDelivery.notification_id == notice
            )
        )
    return {"sent": int(sent), "first_ms": first or 0, "last_ms": last or 0, "last_at": body_at}


def _service() -> tuple[Any, str]:
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    process = context.Process(target=serve_in_process, args=(ready, SEED, 1000), daemon=True)
    process.start()
    return process, ready.get(timeout=30)


async def push(
    subscribers: int,
    database_url: str | None,
    json_out: bool,
    console: Console,
    *,
    concurrency: int | None = None,
    batch_size: int | None = None,
    profile: Path | None = None,
    http2: bool = True,
) -> None:
    process, origin = _service()
    try:
        async with throwaway_database(database_url) as url:
            settings = Settings(database_url=url, push_allowed_hosts=origin.removeprefix("http://"))
            settings.push_concurrency = concurrency or settings.push_concurrency
            settings.push_batch_size = batch_size or settings.push_batch_size
            settings.push_http2 = http2
            figures = await _measure(url, subscribers, origin, settings, console, profile)
    finally:
        process.kill()
    _report(figures, console, json_out)


async def _measure(
    url: str, n: int, origin: str, settings: Settings, console: Console, profile: Path | None
) -> dict[str, Any]:
    database = database_kind(url)
    console.print(f"Loading {n:,} push subscriptions into {database} …")
    await load(url, n, origin, datetime.now(UTC))
    engine = make_engine(url, **settings.pool_options)
    sessions = make_sessionmaker(engine)
    try:
        due = datetime.now(UTC) + START_DELAY
        notice = await release(sessions, due)
        console.print(f"Launch push due at {due:%H:%M:%S.%f} UTC; pushing …")
        await push_run(sessions, settings, notice, profile)
        got = await ledger_figures(sessions, notice)
    finally:
        await engine.dispose()
    async with httpx.AsyncClient() as client:
        service = (await client.get(f"{origin}/stats")).json()
    console.print("Raw rate: the same client posting unencrypted bodies …")
    raw = await raw_rate(settings, origin, n, 180)
    rate = got["sent"] / max(1e-9, got["last_ms"] / 1000)
    return {
        "subscribers": n,
        "database": database,
        "sent": got["sent"],
        "due_to_first_ms": got["first_ms"],
        "due_to_last_ms": got["last_ms"],
        "pushes_per_s": round(rate),
        "raw_per_s": round(raw),
        "share_of_raw": round(rate / raw, 3),
        "concurrency": settings.push_concurrency,
        "batch_size": settings.push_batch_size,
        "client": "httpx, HTTP/2 pool" if settings.push_http2 else "httpx on aiohttp's pool",
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "service_count": service["count"],
        "service_problems": service["problems"],
        "profile": str(profile) if profile else None,
    }


def _report(figures: dict[str, Any], console: Console, json_out: bool) -> None:
    n = figures["subscribers"]
    table = Table(title=f"dropbell bench push · {n:,} subscriptions · {figures['database']}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("pushes accepted", f"{figures['sent']:,}")
    table.add_row("due → first accepted", f"{figures['due_to_first_ms']:,} ms")
    table.add_row("due → last accepted", f"{figures['due_to_last_ms']:,} ms")
    table.add_row("pushes / s (from due)", f"{figures['pushes_per_s']:,}")
    table.add_row("raw rate: same client, unencrypted", f"{figures['raw_per_s']:,} / s")
    table.add_row("share of the raw rate", f"{figures['share_of_raw']:.0%}")
    table.add_row("HTTP client", figures["client"])
    table.add_row("concurrency · batch", f"{figures['concurrency']} · {figures['batch_size']}")
    table.add_row("peak RSS (dropbell)", f"{figures['peak_rss_mb']} MB")
    Console().print(table)
    if figures["profile"]:
        stats = pstats.Stats(figures["profile"])
        stats.sort_stats("tottime").print_stats(15)
    bad = figures["sent"] != n or figures["service_problems"]
    if bad:
        console.print(
            f"[red]expected {n:,} pushes, {figures['sent']:,} accepted; "
            f"service problems: {figures['service_problems']}[/]"
        )
    if json_out:
        print(json.dumps(figures))
    if bad:
        raise SystemExit(1)
