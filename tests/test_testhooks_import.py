"""A normal ``dropbell serve`` never imports the test hooks (the fake clock's endpoints),
nor a benchmark or the demo: ``create_app`` imports the hooks only when
DROPBELL_TEST_HOOKS is on, and each ``dropbell`` tool command imports its tool when it
runs. Checked in a new interpreter, where no other test's imports can hide one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.procs import SRC

# What the process that serves imports (`dropbell serve` runs dropbell.cli, which builds
# the app), then which dropbell.tools modules it holds and what GET /_test/clock answers.
BUILD = """
import asyncio, json, sys
import httpx
import dropbell.cli
from dropbell.app import create_app
from dropbell.config import Settings

app = create_app(Settings(database_url=sys.argv[1], test_hooks=sys.argv[2] == "on"))
tools = sorted(m for m in sys.modules if m.startswith("dropbell.tools"))

async def clock() -> int:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return (await client.get("/_test/clock")).status_code

print(json.dumps({"tools": tools, "clock": asyncio.run(clock())}))
"""


def _build(tmp_path: Path, hooks: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DROPBELL_")}
    env["PYTHONPATH"] = str(SRC)
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    done = subprocess.run(
        [sys.executable, "-c", BUILD, url, hooks],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_an_app_without_test_hooks_never_imports_them(tmp_path: Path) -> None:
    built = _build(tmp_path, "off")
    assert "dropbell.tools.testhooks" not in built["tools"]
    assert built["clock"] == 404
    # Only the `dropbell bench` commands' declarations; no benchmark, no demo.
    assert built["tools"] == ["dropbell.tools", "dropbell.tools.bench", "dropbell.tools.bench.cli"]


def test_an_app_with_test_hooks_mounts_them(tmp_path: Path) -> None:
    built = _build(tmp_path, "on")
    assert "dropbell.tools.testhooks" in built["tools"]
    assert built["clock"] == 200
