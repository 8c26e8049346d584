"""Tag page and public timeline at 1,000,000 posts, measured over HTTP.

    PYTHONPATH=src python benchmarks/posts.py

runs on SQLite (a scratch file) and on PostgreSQL (a scratch database
``dropbell_bench_posts`` on 127.0.0.1:5432, created and dropped here), or only on
the databases given with ``--database-url`` (repeatable). For each it

1. builds the schema with the Alembic migrations;
2. bulk-loads, in SQL (``generate_series`` / a recursive CTE), 1,000,000 posts by
   1,000 authors, 100,000 of which carry ``#benchtag`` and the rest one of 5,000
   other tags, 1% deleted, plus 50,000 reposts interleaved in the same id
   sequence, and a drop that owns ``#benchtag``;
3. starts the real app (``dropbell serve``, uvicorn) in a subprocess on 127.0.0.1;
4. signs a shopper up over HTTP, who sets Remind me on the drop and has liked and
   bookmarked some posts (so every page renders the caller's state);
5. times, one request at a time over a keep-alive connection, the first page and
   deep pages (a random ``max_id`` inside the data) of the tag page and the
   public timeline, and prints p50/p99/max in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from dropbell.db import make_engine
from dropbell.migrate import upgrade

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/dropbell_bench_posts"
TAG = "benchtag"
AUTHORS = 1_000
OTHER_TAGS = 5_000
# Every REPOST_EVERY-th id is a repost of the post just before it.
REPOST_EVERY = 21


@dataclass
class Shape:
    posts: int
    tagged_every: int  # every n-th original post carries #benchtag

    @property
    def rows(self) -> int:
        """Originals plus reposts: ``posts`` originals, one repost after every 20."""
        return self.posts + self.posts // (REPOST_EVERY - 1)

    @property
    def reposts(self) -> int:
        return self.rows - self.posts

    @property
    def tagged(self) -> int:
        return self.posts // self.tagged_every


def _load_sql(shape: Shape, postgres: bool) -> list[str]:
    """The bulk load: accounts, posts and reposts, tags, the drop. ``g`` runs over all ids."""
    n = shape.rows
    if postgres:
        series = f"generate_series(1, {n}) AS s(g)"
        accounts = f"generate_series(1, {AUTHORS + 1}) AS s(g)"
        at = "TIMESTAMPTZ '2029-01-01 00:00:00Z' + g * INTERVAL '1 second'"
        now = "now()"
        later = "now() + INTERVAL '30 days'"
        false, true = "false", "true"
    else:
        series = (
            f"(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n})"
            " SELECT g FROM s)"
        )
        accounts = (
            "(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s"
            f" WHERE g < {AUTHORS + 1}) SELECT g FROM s)"
        )
        at = "strftime('%Y-%m-%d %H:%M:%S', '2029-01-01', '+' || g || ' seconds') || '.000000'"
        now = "strftime('%Y-%m-%d %H:%M:%S', 'now') || '.000000'"
        later = "strftime('%Y-%m-%d %H:%M:%S', 'now', '+30 days') || '.000000'"
        false, true = "0", "1"
    # k: the number of the original post (1..posts) for an original's id g.
    k = f"(g - g / {REPOST_EVERY})"
    is_repost = f"g % {REPOST_EVERY} = 0"
    tagged = f"{k} % {shape.tagged_every} = 0"
    # 1% deleted; never one that a repost follows (deleting a post removes its reposts).
    deleted = f"{k} % 100 = 7 AND g % {REPOST_EVERY} <> {REPOST_EVERY - 1}"
    brand = AUTHORS + 1
    return [
        f"""INSERT INTO accounts (id, username, password_hash, display_name, country, language,
                timezone, is_partner, created_at)
            SELECT g, 'author' || g, '!', 'Author ' || g, 'US', 'en', 'UTC',
                CASE WHEN g = {brand} THEN {true} ELSE {false} END, {now}
            FROM {accounts}""",
        f"""INSERT INTO posts (id, author_id, text, created_at, deleted_at, like_count,
                repost_count, bookmark_count, share_count)
            SELECT g,
                CASE WHEN g = {REPOST_EVERY - 1} THEN {brand} ELSE g % {AUTHORS} + 1 END,
                CASE WHEN {is_repost} THEN ''
                     WHEN {tagged} THEN 'Bench post ' || {k} || ' #{TAG}'
                     ELSE 'Bench post ' || {k} || ' #topic' || ({k} % {OTHER_TAGS}) END,
                {at},
                CASE WHEN NOT ({is_repost}) AND {deleted} THEN {at} END,
                0,
                CASE WHEN g % {REPOST_EVERY} = {REPOST_EVERY - 1} THEN 1 ELSE 0 END,
                0, 0
            FROM {series}""",
        # Each repost's row links to the post just before it.
        f"""INSERT INTO reposts (post_id, reblog_of_id, account_id, created_at)
            SELECT id, id - 1, author_id, created_at FROM posts WHERE id % {REPOST_EVERY} = 0""",
        f"""INSERT INTO post_tags (post_id, tag)
            SELECT id, CASE WHEN (id - id / {REPOST_EVERY}) % {shape.tagged_every} = 0
                            THEN '{TAG}'
                            ELSE 'topic' || ((id - id / {REPOST_EVERY}) % {OTHER_TAGS}) END
            FROM posts WHERE id % {REPOST_EVERY} <> 0 AND deleted_at IS NULL""",
        # The drop that owns #benchtag; its announcement is a tagged post of the brand.
        f"""INSERT INTO drops (id, brand_id, title, description, price, currency, image_url,
                launch_at, tag, shop_url, post_id, reminder_count, schedule_version,
                cancelled_at, created_at, updated_at)
            VALUES (1, {brand}, 'Bench drop', '', '99.00', 'USD', NULL, {later}, '{TAG}',
                'https://shop.example/bench', {REPOST_EVERY - 1}, 0, 0, NULL, {now}, {now})""",
        f"INSERT INTO shop_domains (account_id, domain) VALUES ({brand}, 'shop.example')",
    ]


def _after_load_sql(postgres: bool) -> list[str]:
    if postgres:
        # Explicit ids bypassed the sequences; autovacuum would analyze soon anyway.
        return [
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            for table in ("accounts", "posts", "drops")
        ]
    return []


async def prepare(url: str, shape: Shape) -> float:
    """Create and fill the database; returns the seconds the load took."""
    postgres = not url.startswith("sqlite")
    if postgres:
        admin = make_engine(
            make_url(url).set(database="postgres").render_as_string(hide_password=False),
            isolation_level="AUTOCOMMIT",
        )
        name = make_url(url).database
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
    else:
        await asyncio.to_thread(_remove_sqlite_files, url)
    engine = make_engine(url)
    try:
        await upgrade(engine)
        started = time.perf_counter()
        async with engine.begin() as conn:
            for statement in _load_sql(shape, postgres) + _after_load_sql(postgres):
                await conn.execute(text(statement))
        if postgres:
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ANALYZE"))
        return time.perf_counter() - started
    finally:
        await engine.dispose()


async def give_the_shopper_history(url: str, account_id: int, shape: Shape) -> None:
    """The shopper liked and bookmarked every 7th tagged post (counters kept equal to rows)."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            picked = (
                f"SELECT id FROM posts WHERE id % {REPOST_EVERY} <> 0 AND deleted_at IS NULL"
                f" AND (id - id / {REPOST_EVERY}) % {shape.tagged_every * 7} = 0"
            )
            stamp = "now()" if not url.startswith("sqlite") else "'2029-06-01 00:00:00.000000'"
            await conn.execute(
                text(
                    f"INSERT INTO likes (post_id, account_id, created_at)"
                    f" SELECT id, {account_id}, {stamp} FROM ({picked}) AS p"
                )
            )
            await conn.execute(
                text(
                    f"INSERT INTO bookmarks (account_id, post_id, created_at)"
                    f" SELECT {account_id}, id, {stamp} FROM ({picked}) AS p"
                )
            )
            await conn.execute(
                text(
                    "UPDATE posts SET like_count = like_count + 1,"
                    " bookmark_count = bookmark_count + 1"
                    f" WHERE id IN ({picked})"
                )
            )
    finally:
        await engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = dict(os.environ, DROPBELL_DATABASE_URL=url)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dropbell.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-scheduler",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not come up within 60 s")


def sign_up(client: httpx.Client) -> tuple[int, dict[str, str]]:
    account = {
        "username": "bench_shopper",
        "password": "correct horse battery",
        "country": "US",
        "language": "en",
    }
    r = client.post("/api/v1/accounts", json=account)
    r.raise_for_status()
    r = client.post(
        "/api/v1/auth/token",
        json={"username": account["username"], "password": account["password"], "platform": "ios"},
    )
    r.raise_for_status()
    body = r.json()
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    client.post("/api/v1/drops/1/remind", headers=headers).raise_for_status()
    return int(body["account"]["id"]), headers


@dataclass
class Result:
    name: str
    samples: list[float]

    def percentile(self, p: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(
    client: httpx.Client,
    headers: dict[str, str],
    shape: Shape,
    requests: int,
    seed: int,
) -> list[Result]:
    rng = random.Random(seed)
    deep_low, deep_high = shape.rows // 10, shape.rows * 9 // 10

    def check(r: httpx.Response, name: str) -> None:
        assert r.status_code == 200, (name, r.status_code, r.text[:200])
        body = r.json()
        posts = body["posts"] if isinstance(body, dict) else body
        assert len(posts) == 20, (name, len(posts))
        assert 'rel="next"' in r.headers.get("link", ""), name
        if isinstance(body, dict):
            assert body["drop"] is not None and body["drop"]["reminded"] is True

    scenarios: list[tuple[str, str, bool]] = [
        ("tag page, first page", f"/api/v1/tags/{TAG}", False),
        ("tag page, deep (random max_id)", f"/api/v1/tags/{TAG}", True),
        ("public timeline, first page", "/api/v1/timelines/public", False),
        ("public timeline, deep (random max_id)", "/api/v1/timelines/public", True),
    ]
    results = []
    for name, path, deep in scenarios:
        timings: list[float] = []
        for i in range(requests + requests // 10):
            params = {"max_id": rng.randint(deep_low, deep_high)} if deep else {}
            started = time.perf_counter()
            r = client.get(path, params=params, headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            check(r, name)
            if i >= requests // 10:  # the first tenth warms up
                timings.append(elapsed)
        results.append(Result(name, timings))
    return results


def _describe(url: str) -> str:
    return "SQLite" if url.startswith("sqlite") else "PostgreSQL"


async def run_one(url: str, shape: Shape, requests: int, keep: bool) -> list[Result]:
    print(f"{_describe(url)}: loading {shape.posts:,} posts ...", file=sys.stderr, flush=True)
    seconds = await prepare(url, shape)
    print(f"{_describe(url)}: loaded in {seconds:.1f} s", file=sys.stderr, flush=True)
    server, base = start_server(url)
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            account_id, headers = sign_up(client)
            await give_the_shopper_history(url, account_id, shape)
            return measure(client, headers, shape, requests, seed=2030)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if not keep:
            await drop_database(url)


def _remove_sqlite_files(url: str) -> None:
    path = make_url(url).database or ""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def drop_database(url: str) -> None:
    if url.startswith("sqlite"):
        await asyncio.to_thread(_remove_sqlite_files, url)
        return
    admin = make_engine(
        make_url(url).set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    await admin.dispose()


def print_table(
    rows: list[tuple[str, Result]], shape: Shape, requests: int, loads: list[float]
) -> None:
    print(
        f"\n{shape.posts:,} posts ({shape.tagged:,} with #{TAG}) + {shape.reposts:,} reposts;"
        f" {requests} timed requests per row, one at a time, signed in; latency in ms."
        f"\n{os.cpu_count()} CPUs; 1-minute load average during the runs:"
        f" {min(loads):.2f} to {max(loads):.2f}\n"
    )
    header = f"| {'database':<10} | {'request':<38} | {'p50':>6} | {'p99':>6} | {'max':>6} |"
    print(header)
    print("|" + "|".join("-" * (len(cell) + 0) for cell in header.split("|")[1:-1]) + "|")
    for database, result in rows:
        print(
            f"| {database:<10} | {result.name:<38} | {result.percentile(50):>6.1f} |"
            f" {result.percentile(99):>6.1f} | {max(result.samples):>6.1f} |"
        )
    worst = max(r.percentile(99) for _, r in rows)
    mean = statistics.fmean(s for _, r in rows for s in r.samples)
    print(f"\nworst p99: {worst:.1f} ms; mean of all requests: {mean:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        action="append",
        help="sqlite+aiosqlite:///file.db or postgresql+asyncpg://.../scratch_db "
        "(created and dropped here). Default: a SQLite scratch file and " + POSTGRES_URL,
    )
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--tagged-every", type=int, default=10, help="1 in N carries the tag")
    parser.add_argument("--requests", type=int, default=1000, help="timed requests per row")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args()
    shape = Shape(posts=args.posts, tagged_every=args.tagged_every)
    urls = args.database_url or [
        f"sqlite+aiosqlite:///{Path(tempfile.gettempdir()) / 'dropbell_bench_posts.db'}",
        POSTGRES_URL,
    ]
    rows = []
    loads = []
    for url in urls:
        loads.append(os.getloadavg()[0])
        for result in asyncio.run(run_one(url, shape, args.requests, args.keep)):
            rows.append((_describe(url), result))
        loads.append(os.getloadavg()[0])
    print_table(rows, shape, args.requests, loads)


if __name__ == "__main__":
    main()
