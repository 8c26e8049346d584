"""``dropbell bench``: the commands and their options. Each imports its benchmark when it
runs, so that mounting them (``dropbell.cli``) costs a ``dropbell serve`` nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from dropbell.commands import DatabaseUrl, console

bench_app = typer.Typer(help="Benchmarks that print figures.")

JsonOut = Annotated[bool, typer.Option("--json", help="Last line: the figures as JSON.")]


@bench_app.command("push")
def bench_push(
    subscribers: Annotated[int, typer.Option(min=1, help="How many push subscriptions.")],
    database_url: DatabaseUrl = None,
    json_out: JsonOut = False,
    concurrency: Annotated[int | None, typer.Option(help="Pushes in flight.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Subscriptions per batch.")] = None,
    profile: Annotated[
        Path | None, typer.Option(help="Write a cProfile of the push run to this file.")
    ] = None,
    http2: Annotated[
        bool, typer.Option(help="httpx's HTTP/2-capable pool; --no-http2: aiohttp's pool.")
    ] = True,
) -> None:
    """Push one launch to N subscriptions on a local push service; compare with the raw rate."""
    from dropbell.tools.bench import push

    asyncio.run(
        push.push(
            subscribers,
            database_url,
            json_out,
            console,
            concurrency=concurrency,
            batch_size=batch_size,
            profile=profile,
            http2=http2,
        )
    )


@bench_app.command("launch")
def bench_launch(
    subscribers: Annotated[
        int, typer.Option(min=110, help="How many shoppers remind on one drop.")
    ],
    database_url: DatabaseUrl = None,
    json_out: JsonOut = False,
    sample: Annotated[
        int, typer.Option(min=1, help="Random subscribers who read their inbox over HTTP.")
    ] = 1_000,
    heavy: Annotated[
        int, typer.Option(min=1, help="Heavy shoppers (1,000 reminders each) who read theirs.")
    ] = 100,
    baseline: Annotated[
        bool, typer.Option(help="Also time the old design's per-subscriber write.")
    ] = True,
) -> None:
    """Bulk-load a launch to N subscribers, let the real scheduler release it, read inboxes."""
    from dropbell.tools.bench import launch

    asyncio.run(
        launch.launch(
            subscribers,
            database_url,
            json_out,
            console,
            sample=sample,
            heavy=heavy,
            baseline=baseline,
        )
    )


@bench_app.command("search")
def bench_search(
    posts: Annotated[int, typer.Option(min=5_000, help="How many posts to load.")] = 1_000_000,
    database_url: DatabaseUrl = None,
    json_out: JsonOut = False,
    rounds: Annotated[int, typer.Option(min=1, help="Requests per query.")] = 200,
) -> None:
    """Bulk-load N multilingual posts, then time search queries over HTTP beside a LIKE scan."""
    from dropbell.tools.bench import search

    asyncio.run(search.search(posts, database_url, json_out, console, rounds=rounds))
