"""`python -m dropbell.cli serve` as an operator starts it: a new interpreter, an empty
SQLite file, and the server builds the schema before it answers.

The browser and schemathesis tests fork their servers from a process that has imported
dropbell already, on databases copied from a migrated template (tests/procs.py,
docs/testing.md); this is the start they skip, once.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from dropbell.db import make_engine
from dropbell.migrate import current_revision, head_revision
from tests.procs import SRC


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_on_an_empty_sqlite_file_builds_the_schema_and_answers(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    url = f"sqlite+aiosqlite:///{db}"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DROPBELL_")}
    env.update(PYTHONPATH=str(SRC), DROPBELL_DATABASE_URL=url)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dropbell.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            status = None
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    status = httpx.get(f"http://127.0.0.1:{port}/healthz").status_code
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert status == 200, log.read_text(errors="replace")
            r = httpx.get(f"http://127.0.0.1:{port}/api/v1/drops")
            assert r.status_code == 200 and r.json() == [], r.text
        finally:
            proc.terminate()
            proc.wait(timeout=15)  # uvicorn ends by re-raising the SIGTERM: no exit status

    async def revision() -> str | None:
        engine = make_engine(url)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    assert asyncio.run(revision()) == head_revision()
