"""What a dropbell process connects to: the database engine, its sessions, and the broker
their commits publish live events on (PostgreSQL NOTIFY, or memory on SQLite).

``create_app`` (the API processes) and ``dropbell worker`` both start here, so that a
notice the worker releases reaches the streams the API processes serve the same way one
released inside a request does."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dropbell.config import Settings
from dropbell.db import make_engine, make_sessionmaker
from dropbell.live import publish
from dropbell.live.brokers import Broker, make_broker


@dataclass(frozen=True)
class Wiring:
    engine: AsyncEngine
    broker: Broker
    publisher: publish.Publisher
    sessionmaker: async_sessionmaker[AsyncSession]  # writes; the one that commits
    read_sessionmaker: async_sessionmaker[AsyncSession]  # GET and HEAD (db.reading)

    async def close(self) -> None:
        """The broker, then the engine (its pooled connections)."""
        await self.broker.close()
        await self.engine.dispose()


def connect(settings: Settings) -> Wiring:
    """The engine (on PostgreSQL a transaction left idle for a job's lease is ended, so a
    hung worker cannot keep its job), the broker on it, and sessions whose commits
    publish there."""
    engine = make_engine(
        settings.database_url,
        idle_in_transaction_seconds=settings.job_lease_seconds,
        **settings.pool_options,
    )
    broker = make_broker(settings, engine)
    publisher = publish.Publisher(broker)
    sessionmaker = make_sessionmaker(engine)
    read_sessionmaker = make_sessionmaker(engine, reads=True)
    publish.attach(sessionmaker, publisher)
    publish.attach(read_sessionmaker, publisher)
    return Wiring(engine, broker, publisher, sessionmaker, read_sessionmaker)
