"""The baselines of the Remind-me rush (benchmarks/rush.py): bare FastAPI apps served the
way `dropbell serve` serves dropbell (``uvicorn.run(app, ...)``: uvloop, httptools, one
process per port), answering the same two paths the rush hits.

    hello        POST /api/v1/drops/{id}/remind|unremind → a small JSON. FastAPI alone,
                 no database: the ceiling of the framework and server on this machine.
    bare-remind  The same paths doing the minimum a Remind me must do, with raw asyncpg:
                 look up the token's SHA-256, INSERT the reminder (an open period, with
                 the leads of the JSON body if one came) ON CONFLICT DO NOTHING, or end
                 the open period (UPDATE ... SET ended_at), bump the counter in the same
                 transaction, a small JSON. No ORM, no dropbell layers (no rollout rules,
                 no drop state check, no check of the leads against the menu).

    python -m benchmarks.bare hello --port 8000
    DROPBELL_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/db \\
        python -m benchmarks.bare bare-remind --port 8001 [--pool-size 10]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import uvicorn
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse

TOKEN_SQL = "SELECT account_id FROM access_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
# The reminders table of migration 0003: periods, at most one open per (drop, account).
INSERT_SQL = (
    "INSERT INTO reminders (drop_id, account_id, offsets, created_at)"
    " VALUES ($1, $2, $3, now()) ON CONFLICT DO NOTHING RETURNING account_id"
)
END_SQL = (
    "UPDATE reminders SET ended_at = now() WHERE drop_id = $1 AND account_id = $2"
    " AND ended_at IS NULL RETURNING account_id"
)
DEFAULT_OFFSETS = "900"
BUMP_SQL = (
    "UPDATE drops SET reminder_count = reminder_count + $2 WHERE id = $1 RETURNING reminder_count"
)
COUNT_SQL = "SELECT reminder_count FROM drops WHERE id = $1"
UNAUTHORIZED = {"error": "A valid access token is required.", "code": "unauthorized"}


def hello_app() -> FastAPI:
    app = FastAPI()

    @app.post("/api/v1/drops/{drop_id}/remind")
    async def remind(drop_id: int) -> dict[str, Any]:
        return {"id": drop_id, "reminded": True}

    @app.post("/api/v1/drops/{drop_id}/unremind")
    async def unremind(drop_id: int) -> dict[str, Any]:
        return {"id": drop_id, "reminded": False}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def _no_reset(conn: asyncpg.Connection) -> None:
    """This app leaves no session state behind (no LISTEN, no advisory locks), so the
    connection goes back to the pool as it is: no reset round trip."""


def bare_remind_app(database_url: str, pool_size: int) -> FastAPI:
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    pool: asyncpg.Pool | None = None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=pool_size, reset=_no_reset)
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(lifespan=lifespan)

    async def toggle(drop_id: int, authorization: str, on: bool, offsets: str = "") -> Any:
        token = authorization.removeprefix("Bearer ").strip()
        digest = hashlib.sha256(token.encode()).hexdigest()
        assert pool is not None
        async with pool.acquire() as conn, conn.transaction():
            account_id = await conn.fetchval(TOKEN_SQL, digest)
            if account_id is None:
                return JSONResponse(UNAUTHORIZED, status_code=401)
            if on:
                changed = await conn.fetchval(INSERT_SQL, drop_id, account_id, offsets)
            else:
                changed = await conn.fetchval(END_SQL, drop_id, account_id)
            if changed is not None:
                count = await conn.fetchval(BUMP_SQL, drop_id, 1 if on else -1)
            else:
                count = await conn.fetchval(COUNT_SQL, drop_id)
        return {"id": drop_id, "reminder_count": count, "reminded": on}

    @app.post("/api/v1/drops/{drop_id}/remind")
    async def remind(drop_id: int, request: Request, authorization: str = Header("")) -> Any:
        raw = await request.body()
        chosen = json.loads(raw).get("offsets") if raw else None
        offsets = (
            ",".join(str(o) for o in sorted(set(chosen), reverse=True))
            if chosen is not None
            else DEFAULT_OFFSETS
        )
        return await toggle(drop_id, authorization, True, offsets)

    @app.post("/api/v1/drops/{drop_id}/unremind")
    async def unremind(drop_id: int, authorization: str = Header("")) -> Any:
        return await toggle(drop_id, authorization, False)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("app", choices=["hello", "bare-remind"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--pool-size", type=int, default=10, help="bare-remind's asyncpg pool")
    args = parser.parse_args()
    if args.app == "hello":
        app = hello_app()
    else:
        app = bare_remind_app(os.environ["DROPBELL_DATABASE_URL"], args.pool_size)
    # The same call `dropbell serve` makes.
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, proxy_headers=True)


if __name__ == "__main__":
    main()
