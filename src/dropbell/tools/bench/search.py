"""``dropbell bench search``: search at a million posts, through the HTTP app.

A throwaway database (a SQLite file, or a new database on the PostgreSQL server given)
is migrated and bulk-loaded with set-based SQL (``search_corpus``: multilingual posts,
drops, brands, hashtags, and their search index as the services would have written it;
on PostgreSQL the GIN indexes are built after the load, then ``VACUUM ANALYZE``). A
sample of rows is checked against ``search.text`` (the loaded plain forms must be what
the app would have written). Then a set of queries — a common word, a rare word, an
Arabic word in its plain form, an accented word in its plain form, an exact tag, a
brand's name — each run ``rounds`` times through ``GET /api/v1/search``
(``create_app`` behind ``httpx.ASGITransport``, one request at a time, timed by the
client), and its posts' full-text lookup alone (``fts.matching``, the part that grows
with the posts). Beside each, in the same run, the baseline: the naive ``LIKE '%q%'``
scan of ``posts.text`` a search without an index is, newest first, limited alike (it
finds no text whose accents or diacritics the query lacks).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from dropbell.config import Settings
from dropbell.db import make_engine
from dropbell.migrate import upgrade
from dropbell.search import fts
from dropbell.search.fts import INDEXES, postgres_index
from dropbell.search.text import document, fold, query_words
from dropbell.tools.bench import search_corpus as corpus
from dropbell.tools.bench.common import (
    at,
    base_param,
    database_kind,
    load_engine,
    pct,
    peak_rss_mb,
    series,
    sync_sequence,
    throwaway_database,
)

BRANDS = 500
SHOPPERS = 20_000
BASELINE_ROUNDS = 3


def queries() -> dict[str, str]:
    """What is asked: (what it stands for) → q."""
    return {
        "common word": corpus.vocabulary()["en"][0],  # "new": 1 post in 32
        "rare word": corpus.names()[7 * 7919 % corpus.NAMES],  # post 7's name: ~37 in 1M
        "Arabic, plain form": fold("عَبَاءَة"),  # عباءه
        "accented, plain form": fold("écharpe"),  # echarpe
        "exact tag": "#sneakers",
        "brand name": corpus.names()[7 * 13],  # brand 7 is "Maison <this>"
    }


def _sql(statement: str, posts: int, pg: bool) -> str:
    """Fill the corpus's ``{at:x}`` (created, x seconds into the posts' history) and
    ``{launch:x}`` (a drop launching x times 10 minutes after the load) slots."""
    statement = re.sub(r"\{at:([^}]*)\}", lambda m: at(f"({m[1]}) - {posts}", pg), statement)
    return re.sub(r"\{launch:([^}]*)\}", lambda m: at(f"({m[1]}) * 600", pg), statement)


async def load(url: str, posts: int, say: Console) -> float:
    """Migrate ``url`` and load ``posts`` posts and the rest; seconds taken."""
    pg = url.startswith("postgresql")
    started = time.perf_counter()
    migrated = make_engine(url)
    await upgrade(migrated)
    await migrated.dispose()
    engine = await load_engine(url)
    drops = max(1, posts // 500)
    steps = corpus.statements(posts, drops, BRANDS, SHOPPERS, lambda n, s: series(n, pg, s))
    async with engine.begin() as conn:
        if pg:  # the GIN indexes are built once, after the load (as CREATE INDEX does)
            for table in INDEXES:
                await conn.execute(text(f"DROP INDEX ix_{table}_fts"))
        await corpus.make_tables(conn)
        for statement in steps:
            t0 = time.perf_counter()
            base = {"base": base_param(datetime.now(UTC), pg)}
            await conn.execute(text(_sql(statement, posts, pg)), base)
            say.print(f"  {statement[:60]}… {time.perf_counter() - t0:.1f} s")
        if pg:
            await conn.execute(text("SET maintenance_work_mem = '256MB'"))
            for table in INDEXES:
                await conn.execute(text(postgres_index(table)))
            for table in ("accounts", "posts", "drops"):
                await sync_sequence(conn, table)
    if pg:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    await engine.dispose()
    return time.perf_counter() - started


async def check_sample(url: str) -> None:
    """The loaded plain forms are the ones the app writes (SystemExit if not)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(text(
                    "SELECT p.text, s.search_text FROM posts p JOIN post_search s"
                    " ON s.post_id = p.id WHERE p.id % 9973 = 1"
                ))
            ).all()  # fmt: skip
            tags = (await conn.execute(text("SELECT tag, search_text FROM hashtags"))).all()
    finally:
        await engine.dispose()
    wrong = [t for t, plain in rows if document(t) != plain]
    wrong += [t for t, plain in tags if fold(t) != plain]
    if not rows or wrong:
        raise SystemExit(f"the loaded index is not what the app writes: {wrong[:5]}")


async def _timed(call: Callable[[], Any], rounds: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = await call()
        times.append((time.perf_counter() - t0) * 1000)
    return times, result


async def timeline(client: httpx.AsyncClient, rounds: int) -> dict[str, float]:
    """The reference: a page of 10 posts of the public timeline, the same presenters as
    search's posts and no search at all."""

    async def page() -> Any:
        (await client.get("/api/v1/timelines/public", params={"limit": 10})).raise_for_status()

    times, _ = await _timed(page, rounds)
    return {"p50_ms": round(pct(times, 0.50), 2), "p99_ms": round(pct(times, 0.99), 2)}


async def measure(url: str, rounds: int) -> dict[str, dict[str, Any]]:
    """Each query through the HTTP app ``rounds`` times, its posts' index lookup alone and
    its naive scan; and the timeline's page for reference (``"timeline"``)."""
    from dropbell.app import create_app

    app = create_app(Settings(database_url=url))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
    figures: dict[str, dict[str, Any]] = {}
    try:
        for q in queries().values():  # the first requests compile the app's statements
            (await client.get("/api/v1/search", params={"q": q})).raise_for_status()
        figures["timeline"] = await timeline(client, rounds)
        for name, q in queries().items():

            async def ask(q: str = q) -> Any:
                r = await client.get("/api/v1/search", params={"q": q})
                r.raise_for_status()
                return r.json()

            times, body = await _timed(ask, rounds)
            like = f"%{q.removeprefix('#').lower()}%"
            naive = text(
                "SELECT id FROM posts WHERE deleted_at IS NULL AND lower(text) LIKE :like"
                " ORDER BY id DESC LIMIT 10"
            )

            async def scan(like: str = like, naive: Any = naive) -> Any:
                async with app.state.engine.connect() as conn:
                    return (await conn.execute(naive, {"like": like})).all()

            baseline, naive_rows = await _timed(scan, BASELINE_ROUNDS)

            async def lookup(q: str = q) -> Any:
                async with app.state.read_sessionmaker() as session:
                    return await fts.matching(session, "post_search", query_words(q), 10)

            index_times, _ = await _timed(lookup, rounds)
            found = {kind: len(body[kind]) for kind in ("drops", "posts", "accounts", "hashtags")}
            figures[name] = {
                "q": q,
                "found": found,
                "first_tag": body["hashtags"][0]["tag"] if body["hashtags"] else None,
                "p50_ms": round(pct(times, 0.50), 2),
                "p99_ms": round(pct(times, 0.99), 2),
                "index_p50_ms": round(pct(index_times, 0.50), 2),
                "index_p99_ms": round(pct(index_times, 0.99), 2),
                "like_p50_ms": round(pct(baseline, 0.50), 2),
                "like_found": len(naive_rows),
            }
    finally:
        await client.aclose()
        await app.state.engine.dispose()
    return figures


def problems(figures: dict[str, dict[str, Any]]) -> list[str]:
    """What the answers should have had."""
    wanted = {
        "common word": ("posts", 10),
        "rare word": ("posts", 1),
        "Arabic, plain form": ("posts", 10),
        "accented, plain form": ("posts", 10),
        "exact tag": ("hashtags", 1),
        "brand name": ("accounts", 1),
    }
    bad = [
        f"{name}: {kind} {figures[name]['found'][kind]} < {least}"
        for name, (kind, least) in wanted.items()
        if figures[name]["found"][kind] < least
    ]
    if figures["exact tag"]["first_tag"] != "sneakers":
        bad.append(f"exact tag: first hashtag {figures['exact tag']['first_tag']}")
    return bad


async def search(
    posts: int, database_url: str | None, json_out: bool, console: Console, *, rounds: int
) -> dict[str, Any]:
    """The benchmark; prints the table (and with ``json_out`` a JSON last line)."""
    async with throwaway_database(database_url) as url:
        database = database_kind(url)
        console.print(f"Loading {posts:,} posts into {database} …")
        load_seconds = await load(url, posts, console)
        await check_sample(url)
        console.print(f"Loaded in {load_seconds:.1f} s; {rounds} rounds of each query …")
        by_query = await measure(url, rounds)
    figures = {
        "posts": posts,
        "database": database,
        "rounds": rounds,
        "load_s": round(load_seconds, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "timeline": by_query.pop("timeline"),
        "queries": by_query,
    }
    _report(figures, console, json_out)
    return figures


def _report(figures: dict[str, Any], console: Console, json_out: bool) -> None:
    title = f"dropbell bench search · {figures['posts']:,} posts · {figures['database']}"
    table = Table(title=title)
    columns = ["query", "q", "found: drops/posts/brands/tags", "HTTP p50 / p99"]
    columns += ["posts' index p50 / p99", "LIKE scan p50 (found)"]
    for column in columns:
        table.add_column(column, justify="left" if column in ("query", "q") else "right")
    for name, f in figures["queries"].items():
        table.add_row(
            name,
            f["q"],
            "/".join(str(n) for n in f["found"].values()),
            f"{f['p50_ms']} / {f['p99_ms']} ms",
            f"{f['index_p50_ms']} / {f['index_p99_ms']} ms",
            f"{f['like_p50_ms']} ms ({f['like_found']})",
        )
    Console().print(table)
    t = figures["timeline"]
    console.print(
        f"reference: a timeline page of 10 posts over HTTP, {t['p50_ms']} / {t['p99_ms']} ms"
    )
    console.print(
        f"bulk load {figures['load_s']} s · peak RSS {figures['peak_rss_mb']} MB · p50/p99 of"
        f" {figures['rounds']} requests each; LIKE scan: p50 of {BASELINE_ROUNDS}"
    )
    bad = problems(figures["queries"])
    for line in bad:
        console.print(f"[red]{line}[/]")
    if json_out:
        print(json.dumps(figures, ensure_ascii=False))
    if bad:
        raise SystemExit(1)
