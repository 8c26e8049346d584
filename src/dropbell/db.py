"""Engine, sessions and the one place that commits.

Services only ``flush``. The request (``session_dependency``) or the job
wrapper (``transaction``) owns the transaction: it commits, and only after the
commit runs the side effects registered with :func:`after_commit` (live
events, pushes), so a rolled-back change never notifies anyone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from dropbell import sqlite_driver

log = logging.getLogger(__name__)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime in and out, on SQLite (text) and PostgreSQL (timestamptz).

    Naive datetimes are refused at the door: nothing inside dropbell is naive.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def make_engine(
    url: str,
    *,
    idle_in_transaction_seconds: float = 60,
    ping_idle_seconds: float = 1.0,
    **kwargs: Any,
) -> AsyncEngine:
    """An engine tuned for dropbell.

    On PostgreSQL a session left idle inside a transaction for longer than
    ``idle_in_transaction_seconds`` is ended by the server: a hung (SIGSTOPped)
    worker cannot keep its row locks, and so its job, for ever. A pooled connection
    that sat unused for ``ping_idle_seconds`` is checked before use (see
    :func:`_ping_when_idle`).
    """
    # Errors and SQL logs never carry the statement's parameters: among them are password
    # hashes, token digests and push keys.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        kwargs.setdefault("async_creator", sqlite_driver.creator(url))
        engine = create_async_engine(url, **kwargs)
        _tune_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 0)
    timeout_ms = str(int(idle_in_transaction_seconds * 1000))
    kwargs.setdefault(
        "connect_args", {"server_settings": {"idle_in_transaction_session_timeout": timeout_ms}}
    )
    engine = create_async_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine, ping_idle_seconds)
    return engine


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Reconnect by itself after a database restart, without a ping per request.

    SQLAlchemy's ``pool_pre_ping`` checks every connection at every checkout; on asyncpg
    that is BEGIN, a no-op query and ROLLBACK: three round trips before each request's
    real work. A connection that went back to the pool moments ago is alive, so only one
    that sat idle for ``idle_seconds`` (across a restart, say) is pinged; a dead one is
    replaced before anyone sees it. A restart in the middle of steady traffic is still
    caught: the first error marks every older connection of the pool stale.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return  # new, or back in the pool a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError("pooled connection is dead") from exc


def _tune_sqlite(engine: AsyncEngine) -> None:
    """WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE.

    SQLite lets one writer in at a time; taking the write lock at BEGIN makes
    concurrent transactions queue on the busy timeout instead of failing with
    "database is locked" when a reader later tries to write.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(_STATEMENT_AT_A_TIME):
            return  # reading(): every statement is its own transaction
        conn.exec_driver_sql("BEGIN IMMEDIATE")


_STATEMENT_AT_A_TIME = "dropbell_statement_at_a_time"


def reading(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` for reads: each statement runs (and, if it writes, commits) on its own.

    No ``BEGIN``/``COMMIT``: on PostgreSQL that is two round trips fewer a request (on this
    kind of VM each costs the client 0.3 ms or more); on SQLite a read no longer queues
    for the write lock that every other transaction takes at ``BEGIN IMMEDIATE`` (WAL lets
    readers read beside the writer), so a long count or a ledger batch cannot stall the
    inboxes. A write on it (a shop click) is one atomic statement; work that needs several
    statements to commit together belongs on :func:`make_sessionmaker`'s engine.
    Shares the engine's pool.
    """
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine.execution_options(**{_STATEMENT_AT_A_TIME: True})


def make_sessionmaker(
    engine: AsyncEngine, *, reads: bool = False
) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine``; with ``reads``, on :func:`reading` (a statement at a time)."""
    bind = reading(engine) if reads else engine
    return async_sessionmaker(bind, expire_on_commit=False, autoflush=False)


def read_sessions(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    """Sessions like ``sessionmaker``'s (same pool, same ``info``), on :func:`reading`."""
    kw = dict(sessionmaker.kw)
    return async_sessionmaker(reading(kw.pop("bind")), **kw)


SideEffect = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, effect: SideEffect) -> None:
    """Run ``effect`` once the surrounding transaction has committed (never if it rolls back)."""
    session.info.setdefault("after_commit", []).append(effect)


def after_rollback(session: AsyncSession, undo: Callable[[], None]) -> None:
    """Run ``undo`` if the surrounding transaction rolls back (never once it commits): what
    a change did outside the database (files written) goes with it."""
    session.info.setdefault("after_rollback", []).append(undo)


def _undo_outside(session: AsyncSession) -> None:
    for undo in session.info.pop("after_rollback", []):
        try:
            undo()
        except Exception:
            log.exception("undoing a rolled-back change failed")


async def _run_side_effects(session: AsyncSession) -> None:
    effects: list[SideEffect] = session.info.pop("after_commit", [])
    for effect in effects:
        try:
            await effect()
        except Exception:  # a failed live event must not undo a committed change
            log.exception("side effect after commit failed")


@asynccontextmanager
async def transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """The job wrapper: one transaction, committed here, side effects after."""
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            try:
                await session.rollback()
            finally:
                session.info.pop("after_commit", None)
                _undo_outside(session)
            raise
    session.info.pop("after_rollback", None)
    await _run_side_effects(session)


# Requests that only read (by HTTP's rules, GET and HEAD change nothing a client asked
# for) run a statement at a time (:func:`reading`); a GET's incidental write, such as
# counting a shop click, is a single statement.
_READ_METHODS = frozenset({"GET", "HEAD"})


async def session_dependency(request: Request) -> AsyncIterator[AsyncSession]:
    """The request owns the transaction: commit after the endpoint, before the response.

    GET and HEAD take their session from ``app.state.read_sessionmaker`` instead.
    """
    state = request.app.state
    maker = state.read_sessionmaker if request.method in _READ_METHODS else state.sessionmaker
    async with transaction(maker) as session:
        yield session
