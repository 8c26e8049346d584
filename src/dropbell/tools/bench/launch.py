"""``dropbell bench launch``: a launch to N subscribers, released by the real scheduler, and
the inboxes read through the HTTP app afterwards.

Everything is bulk-loaded with set-based SQL (:mod:`.launch_load`): N subscribers of one
drop, and around them a realistic spread of other reminders, 2,000 past drops and 100
heavy shoppers. The launch is due a moment after the load; a real :class:`Scheduler` on
the system clock releases it (one notice row, one commit) and counts its audience, while
one shopper reads their inbox from the due time on. Then 1,000 random subscribers and
the 100 heavy shoppers read their inbox and unread count over HTTP
(:mod:`.launch_reads`), and each must see the launch exactly once.

Beside it, as baselines on the same data: the old design's write, one ``INSERT …
SELECT`` of the N per-subscriber rows into a scratch table shaped like the old
``notifications``; and the heavy shoppers' reads with the newest-first walk turned off
(every page joins all the notices they see), between their rounds with it.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import threading
import time
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dropbell.clock import SystemClock
from dropbell.config import Settings
from dropbell.db import make_engine, make_sessionmaker, transaction
from dropbell.models import Drop, Notification, ReminderJob
from dropbell.notifications.audience import covers
from dropbell.reminders.models import Reminder
from dropbell.reminders.scheduler import Released, Scheduler
from dropbell.tools.bench.common import (
    START_DELAY,
    database_kind,
    throwaway_database,
)
from dropbell.tools.bench.launch_figures import HEAVY_ROUNDS, Counted, Loaded, Run, report
from dropbell.tools.bench.launch_load import add_tokens, load_launch, old_design_write
from dropbell.tools.bench.launch_reads import Reader, Reads, Watcher, cpu_reference_ms

Sessions = async_sessionmaker[AsyncSession]


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
    rng = random.Random(seed)
    async with throwaway_database(database_url) as url:
        loaded = await _load(url, subscribers, heavy, sample, rng, console)
        run = await _run(url, subscribers, loaded, baseline, console)
    figures = report(run, console)
    if json_out:
        print(json.dumps(figures))
    if not run.ok:
        raise SystemExit(1)
    return figures


async def _load(
    url: str, subscribers: int, heavy: int, sample: int, rng: random.Random, console: Console
) -> Loaded:
    console.print(f"Loading {subscribers:,} subscribers and the rest into {database_kind(url)} …")
    t0 = time.perf_counter()
    base = datetime.now(UTC)
    layout, steps = await load_launch(url, subscribers, heavy, base, console)
    shoppers = rng.sample(range(heavy + 1, subscribers + 1), min(sample, subscribers - heavy))
    warmup = rng.sample(range(heavy + 1, subscribers + 1), min(20, subscribers - heavy))
    await add_tokens(url, sorted({*shoppers, *warmup, *range(1, heavy + 1)}), base)
    return Loaded(layout, steps, shoppers, warmup, time.perf_counter() - t0)


async def _run(url: str, subscribers: int, loaded: Loaded, baseline: bool, console: Console) -> Run:
    """The launch is due in a moment; release it, count it, read the inboxes, check."""
    settings = Settings(database_url=url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    due = datetime.now(UTC) + START_DELAY
    async with transaction(sessions) as session:
        drop = await session.get_one(Drop, 1)
        drop.launch_at = due
        job = await session.get_one(ReminderJob, loaded.layout.launch_job)
        job.due_at = due
    console.print(f"Loaded in {loaded.seconds:.1f}s; the launch is due at {due:%H:%M:%S.%f} UTC")
    reader = Reader(settings)
    for account in loaded.warmup[:5]:  # first requests compile the app's statements
        await reader.get(account, "/api/v1/notifications?limit=1")
    counted = await _release(sessions, settings, loaded, due)
    console.print(
        f"Released {counted.due_to_released_ms:.1f} ms after due; audience"
        f" {counted.audience:,} counted in {counted.count_seconds:.1f}s."
        f" Reading {len(loaded.shoppers):,} + {loaded.layout.heavy} inboxes …"
    )
    reads, load_average, reference = await _read(reader, loaded, counted.notice_id)
    t0 = time.perf_counter()
    twice = await _seen_twice(sessions, counted.notice_id)
    check_seconds = time.perf_counter() - t0
    await engine.dispose()
    old_ms, old_rows = (
        await old_design_write(url, loaded.layout.launch_job, due) if baseline else (None, None)
    )
    return Run(
        subscribers, database_kind(url), loaded, counted, reads, load_average, reference,
        twice, check_seconds, old_ms, old_rows,
    )  # fmt: skip


async def _release(
    sessions: Sessions, settings: Settings, loaded: Loaded, due: datetime
) -> Counted:
    """A real scheduler releases the launch and counts its audience, while a shopper on
    the app reads their inbox: how soon it shows (the count comes after)."""
    launch_job = loaded.layout.launch_job
    committed: list[tuple[Released, float]] = []
    landed = asyncio.Event()

    async def on_release(released: Released) -> None:
        committed.append((released, time.time()))  # listeners run after the commit
        landed.set()

    # The watcher is on a thread of its own (its own event loop, app and connections), so
    # that its requests take turns with the scheduler the way another process's would.
    counted_event = threading.Event()
    watcher = Watcher(settings, loaded.shoppers[0], loaded.warmup[0], due, counted_event)
    scheduler = Scheduler(sessions, SystemClock(), settings, worker_id="bench",
                          listeners=[on_release])  # fmt: skip
    stop = asyncio.Event()
    runner = asyncio.create_task(scheduler.run(stop))
    await asyncio.wait({asyncio.create_task(landed.wait()), runner},
                       return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
    counted_at = await _until_counted(sessions, runner, launch_job)
    stop.set()
    scheduler.wake.set()
    await runner
    counted_event.set()
    watched = await asyncio.to_thread(watcher.result, 120)
    released, committed_at = next(c for c in committed if c[0].job_id == launch_job)
    async with transaction(sessions) as session:
        job = await session.get_one(ReminderJob, launch_job)
        notice = await session.get_one(Notification, released.notification_id)
        readers = [*loaded.shoppers, *range(1, loaded.layout.heavy + 1)]
        per_account = await _periods_seeing(session, notice.id, readers)
    return Counted(
        due, committed_at, notice.created_at, notice.id, job.delivered,
        (counted_at - notice.created_at).total_seconds(), per_account, watched,
    )  # fmt: skip


async def _until_counted(sessions: Sessions, runner: asyncio.Task[None], job_id: int) -> datetime:
    """When the scheduler counted the launch's audience (it stopping first is an error)."""
    while True:
        if runner.done():
            runner.result()  # the scheduler stopped: its error
            raise SystemExit("the scheduler stopped before the launch was counted")
        await asyncio.sleep(0.1)
        async with transaction(sessions) as session:
            job = await session.get_one(ReminderJob, job_id)
            if job.counted_at is not None:
                return job.counted_at


async def _periods_seeing(
    session: AsyncSession, notice_id: int, accounts: list[int]
) -> dict[int, int]:
    """How many reminder periods of each of ``accounts`` see the notice."""
    rows = await session.execute(
        select(Reminder.account_id, func.count())
        .join(Notification, covers(Reminder, Notification))
        .where(Notification.id == notice_id, Reminder.account_id.in_(accounts))
        .group_by(Reminder.account_id)
    )
    return {account: n for account, n in rows.all()}


async def _read(
    reader: Reader, loaded: Loaded, notice_id: int
) -> tuple[dict[str, Reads], tuple[float, float], float]:
    """The shoppers' reads, by phase; the load average before and after; the CPU
    reference."""
    heavies = list(range(1, loaded.layout.heavy + 1))
    # The heavy shoppers' baseline (the join, no walk) between their rounds, in the
    # same run and on the same warm caches.
    phases = [
        ("random", loaded.shoppers),
        *[("heavy", heavies), ("heavy_join", heavies)] * HEAVY_ROUNDS,
    ]
    load_before = os.getloadavg()[0]
    reference = cpu_reference_ms()
    try:
        reads = await reader.read_inboxes(phases, notice_id, loaded.warmup)
    finally:
        await reader.close()
    return reads, (load_before, os.getloadavg()[0]), reference


async def _seen_twice(sessions: Sessions, notice_id: int) -> int:
    """Subscribers who would see the notice through more than one reminder period."""
    async with transaction(sessions) as session:
        twice = await session.scalar(
            select(func.count()).select_from(
                select(Reminder.account_id)
                .join(Notification, covers(Reminder, Notification))
                .where(Notification.id == notice_id)
                .group_by(Reminder.account_id)
                .having(func.count() > 1)
                .subquery()
            )
        )
    return int(twice or 0)
