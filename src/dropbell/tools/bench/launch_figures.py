"""What a launch benchmark measured (:class:`Run`), its figures, the table printed and
the checks: every sampled read saw the launch exactly once and the audience is N."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from dropbell.tools.bench.common import peak_rss_mb
from dropbell.tools.bench.launch_load import Layout
from dropbell.tools.bench.launch_reads import Reads, Watched

HEAVY_ROUNDS = 3  # the heavy shoppers read three times each (their p99 is of 300 reads)


@dataclass(frozen=True)
class Loaded:
    """The data, and who reads."""

    layout: Layout
    steps: dict[str, float]  # seconds each load step took
    shoppers: list[int]  # the random subscribers who read their inbox
    warmup: list[int]  # others, whose reads warm the app up
    seconds: float


@dataclass(frozen=True)
class Counted:
    """The launch, released and counted, and what the watching shopper saw meanwhile."""

    due: datetime
    committed_at: float  # the system time when the release had committed
    stamped_at: datetime  # the notice's created_at
    notice_id: int
    audience: int  # the count
    count_seconds: float  # from the release to the count
    per_account: dict[int, int]  # sampled shopper → the periods that see the notice
    watched: Watched

    @property
    def due_to_released_ms(self) -> float:
        return (self.committed_at - self.due.timestamp()) * 1000


@dataclass(frozen=True)
class Run:
    """Everything measured, for the figures and the checks."""

    subscribers: int
    database: str
    loaded: Loaded
    counted: Counted
    reads: dict[str, Reads]  # by phase: random, heavy, heavy_join
    load_average: tuple[float, float]  # before and after the reads
    reference_ms: float  # cpu_reference_ms
    twice: int  # subscribers that see the launch through more than one period
    check_seconds: float
    old_ms: float | None  # the old design's write, when timed
    old_rows: int | None

    @property
    def heavy(self) -> int:
        return self.loaded.layout.heavy

    @property
    def reads_made(self) -> int:
        return len(self.loaded.shoppers) + 2 * self.heavy * HEAVY_ROUNDS

    @property
    def sampled(self) -> int:
        return len(self.loaded.shoppers) + self.heavy

    @property
    def saw_once(self) -> int:
        return sum(r.saw_once for r in self.reads.values())

    @property
    def covered_once(self) -> int:
        return sum(1 for n in self.counted.per_account.values() if n == 1)

    @property
    def ok(self) -> bool:
        return (
            self.saw_once == self.reads_made
            and self.covered_once == self.sampled
            and self.twice == 0
            and self.counted.audience == self.subscribers
        )


def figures(run: Run) -> dict[str, Any]:
    """The figures, as ``--json`` prints them."""
    counted, reads, watched = run.counted, run.reads, run.counted.watched
    everyone = Reads(
        inbox=[*reads["random"].inbox, *reads["heavy"].inbox],
        unread=[*reads["random"].unread, *reads["heavy"].unread],
        inbox_cpu=[*reads["random"].inbox_cpu, *reads["heavy"].inbox_cpu],
        unread_cpu=[*reads["random"].unread_cpu, *reads["heavy"].unread_cpu],
        db_cpu_ms=reads["random"].db_cpu_ms + reads["heavy"].db_cpu_ms,
    )
    old_ms, old_rows = run.old_ms, run.old_rows
    old_rate = old_rows / (old_ms / 1000) if old_ms and old_rows else None
    return {
        "subscribers": run.subscribers,
        "database": run.database,
        "load_s": round(run.loaded.seconds, 1),
        "due_to_released_ms": round(counted.due_to_released_ms, 1),
        "due_to_stamped_ms": round((counted.stamped_at - counted.due).total_seconds() * 1000, 1),
        "due_to_visible_ms": round(watched.visible_ms, 1),
        "watch_reads": watched.reads,
        "watch_slowest_read_ms": round(watched.slowest_ms, 1),
        "watch_reads_while_counting": watched.reads_after,
        "slowest_read_while_counting_ms": round(watched.slowest_after_ms, 1),
        "count_s": round(counted.count_seconds, 2),
        "audience": counted.audience,
        "sampled": run.sampled,
        "inbox_reads": run.reads_made,
        "saw_launch_once": run.saw_once,
        "covered_once": run.covered_once,
        "seen_twice_anywhere": run.twice,
        **everyone.figures(""),
        **reads["heavy"].figures("heavy_"),
        **reads["heavy_join"].figures("heavy_join_"),
        **reads["random"].figures("random_"),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "old_design_write_ms": round(old_ms, 1) if old_ms is not None else None,
        "old_design_rows": old_rows,
        "old_design_rows_per_s": round(old_rate) if old_rate else None,
        "load_average": [round(load, 2) for load in run.load_average],
        "cpu_reference_ms": round(run.reference_ms, 1),
        "check_s": round(run.check_seconds, 1),
        "load_steps_s": {k: round(v, 1) for k, v in run.loaded.steps.items()},
    }


def report(run: Run, console: Console) -> dict[str, Any]:
    """Print the table and, if a check failed, what; return the figures."""
    got = figures(run)
    Console().print(table(run, got))
    if not run.ok:
        failures = [failure for r in run.reads.values() for failure in r.failures]
        for line in failures[:20]:
            console.print(f"[red]{line}[/]")
        console.print(
            f"[red]expected every read of {run.sampled:,} sampled shoppers to show the launch"
            f" once ({run.saw_once:,} of {run.reads_made:,} did; {run.covered_once:,} covered"
            f" once) and an audience of {run.subscribers:,} ({run.counted.audience:,},"
            f" {run.twice:,} twice)[/]"
        )
    return got


def table(run: Run, got: dict[str, Any]) -> Table:
    counted, watched = run.counted, run.counted.watched
    table = Table(title=f"dropbell bench launch · {run.subscribers:,} subscribers · {run.database}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("bulk load (every table, indexes, statistics)", f"{run.loaded.seconds:,.1f} s")
    table.add_row(
        "due → launch notice released (committed)", f"{counted.due_to_released_ms:,.1f} ms"
    )
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
        "audience counted (after the release)",
        f"{counted.audience:,} in {counted.count_seconds:.2f} s",
    )
    for label, kind in (
        ("random subscribers", "random"),
        ("heavy shoppers", "heavy"),
        ("heavy shoppers, baseline: the join (no walk)", "heavy_join"),
    ):
        _add_reads(table, label, run.reads[kind])
    before, after = run.load_average
    table.add_row("load average before → after the reads (2 cores)", f"{before:.2f} → {after:.2f}")
    table.add_row("CPU reference (a fixed Python loop, best of 5)", f"{run.reference_ms:.0f} ms")
    table.add_row(
        "reads that saw the launch exactly once", f"{run.saw_once:,} / {run.reads_made:,}"
    )
    table.add_row("subscribers covered by more than one period", f"{run.twice:,}")
    table.add_row("peak RSS", f"{got['peak_rss_mb']} MB")
    if run.old_ms is not None and run.old_rows is not None:
        table.add_row(
            "per-subscriber write (old design), same data",
            f"{run.old_rows:,} rows in {run.old_ms:,.0f} ms",
        )
    return table


def _add_reads(table: Table, label: str, r: Reads) -> None:
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
