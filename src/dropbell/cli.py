"""The ``dropbell`` command: serve, worker, migrate, partner, demo, bench."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from dropbell import logs
from dropbell.commands import (
    DatabaseUrl,
    console,
    describe_db,
    in_transaction,
    prepare_schema,
    settings_for,
)
from dropbell.config import Settings
from dropbell.push.cli import push_app
from dropbell.tools.bench.cli import bench_app

if TYPE_CHECKING:
    from dropbell.background import Workers
    from dropbell.clock import Clock

app = typer.Typer(
    help="dropbell: product-drop reminders, on time and exactly once.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
partner_app = typer.Typer(help="Approve partner brands and the shop domains they may link to.")
app.add_typer(partner_app, name="partner")
app.add_typer(push_app, name="push")
app.add_typer(bench_app, name="bench")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    scheduler: Annotated[
        bool, typer.Option(help="Also run the reminder scheduler in this process.")
    ] = True,
    database_url: DatabaseUrl = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Run the API, the web app and (by default) the reminder scheduler in one process."""
    import uvicorn

    from dropbell.app import create_app

    logs.setup(log_level)
    settings = settings_for(database_url)
    if "public_url" not in settings.model_fields_set:
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        settings.public_url = f"http://{shown_host}:{port}"
    asyncio.run(prepare_schema(settings))
    web = create_app(settings, run_scheduler=scheduler)
    console.print(
        f"dropbell on [bold]http://{host}:{port}[/] (API docs at /docs) · "
        f"database {describe_db(settings)} · scheduler {'on' if scheduler else 'off'}"
    )
    # Event streams never end by themselves: give them 3 s on shutdown, then close them.
    # Forwarded headers are the app's business (DROPBELL_TRUSTED_PROXIES): uvicorn's own
    # would believe any loopback client.
    uvicorn.run(
        web,
        host=host,
        port=port,
        log_level=log_level,
        proxy_headers=False,
        timeout_graceful_shutdown=3,
    )


@asynccontextmanager
async def worker_processes(settings: Settings, clock: Clock) -> AsyncIterator[Workers]:
    """The scheduler and the push worker as `dropbell worker` runs them: every released
    notice is published to the API processes' live streams (PostgreSQL NOTIFY)."""
    import dropbell.models  # noqa: F401  (every table, for the ORM's relationships)
    from dropbell.background import make_workers
    from dropbell.wiring import connect

    wiring = connect(settings)
    workers = make_workers(wiring.sessionmaker, clock, settings, wiring.publisher)
    try:
        yield workers
    finally:
        await workers.push.aclose()
        await wiring.close()


@app.command()
def worker(
    database_url: DatabaseUrl = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Run the reminder scheduler and the push worker, without the API (any number of
    workers may share one PostgreSQL)."""
    from dropbell.clock import SystemClock

    logs.setup(log_level)
    settings = settings_for(database_url)
    asyncio.run(prepare_schema(settings))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        from dropbell.background import running

        async with (
            worker_processes(settings, SystemClock()) as workers,
            running(workers, stop),
        ):
            await stop.wait()

    console.print(f"dropbell worker · database {describe_db(settings)}")
    asyncio.run(main())


@app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Upgrade the database schema to the newest revision (Alembic)."""
    from dropbell.db import make_engine
    from dropbell.migrate import current_revision, head_revision, upgrade

    settings = settings_for(database_url)

    async def main() -> tuple[str | None, str | None]:
        engine = make_engine(settings.database_url)
        try:
            before = await current_revision(engine)
            await upgrade(engine)
            return before, await current_revision(engine)
        finally:
            await engine.dispose()

    before, after = asyncio.run(main())
    if before == after:
        console.print(f"{describe_db(settings)} is up to date (revision {after}).")
    else:
        console.print(
            f"{describe_db(settings)}: {before or 'empty'} → {after} ({head_revision()})."
        )


@partner_app.command("add")
def partner_add(
    username: Annotated[str, typer.Argument(help="The brand's account.")],
    shop_domain: Annotated[
        list[str],
        typer.Option("--shop-domain", help="A domain its shop links may use (subdomains too)."),
    ],
    database_url: DatabaseUrl = None,
) -> None:
    """Approve USERNAME as a partner brand and allow its shop domains."""
    from dropbell.accounts import service

    settings = settings_for(database_url)
    account = asyncio.run(in_transaction(settings, service.approve_partner, username, shop_domain))
    domains = ", ".join(d.domain for d in account.shop_domains)
    console.print(f"[green]{account.username}[/] is a partner brand; shop domains: {domains}")


@partner_app.command("remove")
def partner_remove(
    username: Annotated[str, typer.Argument(help="The brand's account.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Withdraw USERNAME's partner status and shop domains (its drops stay)."""
    from dropbell.accounts import service

    settings = settings_for(database_url)
    account = asyncio.run(in_transaction(settings, service.remove_partner, username))
    console.print(f"{account.username} is no longer a partner brand.")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


@app.command()
def demo(
    database_url: DatabaseUrl = None,
    reset: Annotated[
        bool,
        typer.Option(
            "--reset",
            help="Delete the demo's accounts and everything of theirs, then load it again.",
        ),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask before --reset deletes.")
    ] = False,
) -> None:
    """Fill an empty database with believable demo data: brands, drops, shoppers, reminders.

    A database that has accounts is left as it is (restarting ./scripts/start keeps what
    people did); --reset starts the demo over.
    """
    from dropbell.tools.demo import data as demo_data
    from dropbell.tools.demo import loader as demo_loader

    logs.setup("warning")
    settings = settings_for(database_url)
    asyncio.run(prepare_schema(settings))
    found = asyncio.run(demo_loader.contents(settings))
    if not reset and found.accounts:
        console.print(
            f"The database already has data ({_count(found.accounts, 'account')}), so the demo "
            "left it "
            "as it is. To start the demo over, run [bold]dropbell demo --reset[/]."
        )
        return
    if reset and found.demo_accounts:
        console.print(
            f"[yellow]--reset deletes the demo's {found.demo_accounts} accounts "
            f"({', '.join(demo_data.DEMO_USERNAMES)}) and everything of theirs: "
            f"{found.demo_drops} drops, {found.demo_posts} posts, and their reminders, "
            "likes, reposts, bookmarks, notices and sessions, whoever made them.[/] "
            f"Other accounts ({found.accounts - found.demo_accounts}) and their own posts stay."
        )
        if not yes:
            typer.confirm("Delete them and load the demo again?", abort=True)
    asyncio.run(demo_loader.load(settings, console, reset=reset))


if __name__ == "__main__":
    app()
