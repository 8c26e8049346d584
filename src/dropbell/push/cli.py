"""``dropbell push``: the operator's VAPID key commands."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from dropbell.commands import DatabaseUrl, console, in_transaction, settings_for

push_app = typer.Typer(help="Web Push: the VAPID key browsers subscribe with.")


@push_app.command("key")
def show_key(database_url: DatabaseUrl = None) -> None:
    """Print the VAPID public key (made now if there is none yet)."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from dropbell.clock import SystemClock
    from dropbell.context import Context
    from dropbell.push import keys

    settings = settings_for(database_url)

    async def current(session: AsyncSession) -> keys.SigningKey:
        return await keys.current_key(Context(session, SystemClock(), settings))

    key = asyncio.run(in_transaction(settings, current))
    source = "DROPBELL_VAPID_PRIVATE_KEY" if key.id is None else "the database"
    typer.echo(f"{key.public_key}  (from {source})")


@push_app.command("rotate-key")
def rotate_key(
    database_url: DatabaseUrl = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Retire the VAPID key, make a new one and remove every push subscription.

    Subscriptions are bound to the key they were made with, so every browser subscribes
    again (the web app does so on its next visit).
    """
    from sqlalchemy.ext.asyncio import AsyncSession

    from dropbell.clock import SystemClock
    from dropbell.context import Context
    from dropbell.push import keys

    settings = settings_for(database_url)
    if not yes:
        typer.confirm(
            "Every push subscription will be removed and browsers must subscribe again. Rotate?",
            abort=True,
        )

    async def rotate(session: AsyncSession) -> keys.Rotation:
        return await keys.rotate_key(Context(session, SystemClock(), settings))

    rotation = asyncio.run(in_transaction(settings, rotate))
    console.print(
        f"New VAPID public key [bold]{rotation.public_key}[/]; "
        f"{rotation.removed_subscriptions} subscriptions removed."
    )
