"""aiosqlite with one thread hop a statement (SQLAlchemy's ``async_creator``).

aiosqlite runs the sqlite3 connection on a thread of its own and hands every call to
it and back: SQLAlchemy's adapter makes four of them a statement (make the cursor,
execute, fetch all, close) and one more when the pool resets a connection that holds no
transaction. Each hop wakes the thread and then the event loop (a queue, a self-pipe,
the GIL): on this 2-core machine that was most of a request's CPU, 4.3 of a random
shopper's 4.5 ms inbox against 2.5 ms with one hop (docs/benchmarks.md).

:class:`OneHopConnection` is aiosqlite's connection whose cursors do the whole
statement in one call on its thread (and keep its rows, which is what SQLAlchemy's
adapter does with them anyway: it fetches all before it returns), and whose commit and
rollback skip the hop when there is no transaction to end (reads run without one,
:func:`dropbell.db.reading`). Everything else is aiosqlite's: the thread, the queue,
the errors. Server-side cursors (``stream_results``) would get every row at once too;
dropbell streams none.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import make_url

Row = Any  # what the connection's row_factory makes (SQLAlchemy leaves it the tuple)
T = TypeVar("T")


class OneHopCursor:
    """The part of :class:`aiosqlite.Cursor` SQLAlchemy uses, one hop a statement."""

    def __init__(self, connection: OneHopConnection) -> None:
        self._connection = connection
        self._cursor: sqlite3.Cursor | None = None
        self._rows: deque[Row] = deque()
        self.arraysize = 1

    async def __aenter__(self) -> OneHopCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = ()) -> OneHopCursor:
        return await self._run(lambda cursor: cursor.execute(sql, parameters))

    async def executemany(self, sql: str, parameters: Any) -> OneHopCursor:
        return await self._run(lambda cursor: cursor.executemany(sql, parameters))

    async def executescript(self, script: str) -> OneHopCursor:
        return await self._run(lambda cursor: cursor.executescript(script))

    async def _run(self, statement: Callable[[sqlite3.Cursor], object]) -> OneHopCursor:
        def on_thread(raw: sqlite3.Connection) -> tuple[sqlite3.Cursor, list[Row]]:
            cursor = raw.cursor()
            try:
                statement(cursor)
                return cursor, cursor.fetchall() if cursor.description else []
            finally:
                cursor.close()  # description, rowcount and lastrowid stay readable

        self._cursor, rows = await self._connection.on_thread(on_thread)
        self._rows = deque(rows)
        return self

    async def fetchone(self) -> Row | None:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Row]:
        count = min(self.arraysize if size is None else size, len(self._rows))
        return [self._rows.popleft() for _ in range(count)]

    async def fetchall(self) -> list[Row]:
        rows, self._rows = list(self._rows), deque()
        return rows

    async def close(self) -> None:
        self._rows.clear()

    @property
    def description(self) -> Sequence[tuple[Any, ...]] | None:
        return self._cursor.description if self._cursor is not None else None

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount if self._cursor is not None else -1

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid if self._cursor is not None else None


class OneHopConnection(aiosqlite.Connection):
    """aiosqlite's connection with :class:`OneHopCursor` cursors."""

    async def on_thread(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn(the sqlite3 connection)``, run on the connection's thread."""
        raw = self._conn
        result: T = await self._execute(partial(fn, raw))  # type: ignore[no-untyped-call]
        return result

    def cursor(self) -> OneHopCursor:  # type: ignore[override]
        return OneHopCursor(self)

    async def commit(self) -> None:
        if self._conn.in_transaction:
            await super().commit()

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            await super().rollback()


def creator(url: str) -> Callable[[], Awaitable[OneHopConnection]]:
    """The ``async_creator`` of ``url``'s engine: a started :class:`OneHopConnection`
    made with the arguments SQLAlchemy would give :func:`aiosqlite.connect` for ``url``.
    Its thread is a daemon, as SQLAlchemy makes aiosqlite's: a connection never closed
    must not keep the process alive."""
    args, params = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))
    iter_chunk_size = params.pop("iter_chunk_size", 64)

    async def connect() -> OneHopConnection:
        connection = OneHopConnection(partial(sqlite3.connect, *args, **params), iter_chunk_size)
        connection._thread.daemon = True
        await connection  # starts its thread, which connects
        return connection

    return connect
