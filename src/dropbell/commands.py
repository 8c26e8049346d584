"""What every ``dropbell`` subcommand shares: the console, the ``--database-url`` option,
settings, the schema check and one transaction. Its own module so that the subcommands
living beside their domain or tool (``dropbell.push.cli``, ``dropbell.tools.bench.cli``)
need not import the ``dropbell`` command that mounts them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from dropbell.config import Settings

T = TypeVar("T")

console = Console(stderr=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Overrides DROPBELL_DATABASE_URL (default: dropbell.db in this directory).",
        show_default=False,
    ),
]


def settings_for(database_url: str | None = None) -> Settings:
    settings = Settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings


def describe_db(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)


async def prepare_schema(settings: Settings, wait_seconds: float = 30) -> None:
    """As below, waiting up to ``wait_seconds`` for a database that is (re)starting."""
    from sqlalchemy.exc import DBAPIError

    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        try:
            await prepare_schema_once(settings)
            return
        except (DBAPIError, OSError) as exc:
            if asyncio.get_running_loop().time() > deadline:
                raise
            console.print(
                f"[yellow]database not reachable yet ({exc.__class__.__name__}); retrying[/]"
            )
            await asyncio.sleep(1)


async def prepare_schema_once(settings: Settings) -> None:
    """SQLite: create or upgrade the schema. PostgreSQL: insist that ``dropbell migrate`` ran."""
    from dropbell.db import make_engine
    from dropbell.migrate import current_revision, head_revision, upgrade

    engine = make_engine(settings.database_url)
    try:
        if settings.is_sqlite:
            await upgrade(engine)
            return
        current, head = await current_revision(engine), head_revision()
        if current != head:
            console.print(
                f"[red]The database is at revision {current or 'none'}, the code needs {head}.[/]"
                " Run [bold]dropbell migrate[/] first."
            )
            raise typer.Exit(2)
    finally:
        await engine.dispose()


async def in_transaction(settings: Settings, func: Callable[..., Awaitable[T]], *args: Any) -> T:
    """``func(session, *args)`` in one transaction, once the schema is ready; a domain
    error is printed for the operator and exits 1."""
    import dropbell.models  # noqa: F401  (every table, for the ORM's relationships)
    from dropbell.db import make_engine, make_sessionmaker, transaction
    from dropbell.errors import AppError

    await prepare_schema(settings)
    engine = make_engine(settings.database_url)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            return await func(session, *args)
    except AppError as exc:
        console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    finally:
        await engine.dispose()
