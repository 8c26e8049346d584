"""``dropbell`` commands as real processes that start in milliseconds, not seconds.

A fresh ``python -m dropbell.cli`` spends about two seconds of CPU importing FastAPI,
SQLAlchemy, Alembic, Babel, ICU and the rest before it does anything, and the browser and
schemathesis tests start hundreds of them (a server per test, ``partner add``,
``migrate``, ``demo``). Instead each pytest process keeps one fork server
(:mod:`multiprocessing`'s ``forkserver``) that imported all of that once, and every
command is a fork of it: a process of its own (own pid, memory, sockets and signals,
stopped with SIGTERM like any server), running the same ``dropbell.cli`` entry point
with the given arguments and environment; its output goes to a file.

What the fork skips is the interpreter's start and the imports, nothing of the
command: settings are read from the environment the command is given, at run time.
``tests/test_cli.py`` runs the commands themselves; ``tests/web/support.py`` and
``tests/test_schemathesis.py`` start their processes here (docs/testing.md).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import subprocess
import sys
from multiprocessing import forkserver
from multiprocessing.context import ForkServerContext
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

# What a command imports, so that the fork server has it and its forks need not. Only
# imports: nothing here reads settings, opens a database or starts a thread.
WARM = [
    "tests.hashing",
    # A fork first runs the parent's main script again (multiprocessing's way), which,
    # under `pytest -n 0`, imports this.
    "_pytest.config",
    "dropbell.cli",
    "dropbell.app",
    "dropbell.tools.demo.loader",
    "dropbell.migrate",
    "dropbell.models",
    "dropbell.tools.testhooks",
    "alembic.command",
    "aiosqlite",
    "asyncpg",
    "uvicorn",
    "uvicorn.config",
    "uvicorn.main",
    "uvicorn.server",
    "uvicorn.lifespan.on",
    "uvicorn.loops.auto",
    "uvicorn.protocols.http.auto",
    "uvicorn.protocols.websockets.auto",
]

_context: ForkServerContext | None = None


def _fork_server() -> ForkServerContext:
    """This process's fork server, started on first use with ``WARM`` imported."""
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["tests.procs", *WARM])
        # The server is a new interpreter: it finds this checkout's src/ and tests/ as a
        # `python -m dropbell.cli` in ROOT would (Python 3.11's forkserver ignores the
        # parent's sys.path).
        saved = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [str(SRC), str(ROOT), *([saved] if saved else [])]
        )
        try:
            forkserver.ensure_running()
        finally:
            if saved is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = saved
        atexit.register(_stop_fork_server)
        _context = context
    return _context


def _stop_fork_server() -> None:
    """At exit: end the fork server and wait for it (its CPU time then counts as this
    process's children's, as a subprocess's does)."""
    stop = getattr(forkserver._forkserver, "_stop", None)
    if stop is not None:
        stop()


def _main(args: list[str], env: dict[str, str], output: str) -> None:
    """In the fork: become ``dropbell ARGS`` with ``env`` and its output in ``output``."""
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.environ.clear()
    os.environ.update(env)
    import dropbell
    from dropbell import commands
    from dropbell.cli import app
    from tests.hashing import fast_password_hashing

    assert Path(dropbell.__file__).is_relative_to(SRC), (dropbell.__file__, SRC)
    # The console looked at the fork server's stderr when it was made: look again, at
    # the file this command writes to (no colours, no terminal width).
    commands.console.__init__(stderr=True)  # type: ignore[misc]
    # As in the test process (tests/conftest.py): the servers sign up and log in hundreds
    # of accounts, and schemathesis thousands of bodies.
    fast_password_hashing()
    app(args, prog_name="dropbell")


class Process:
    """A running ``dropbell`` command, with the part of :class:`subprocess.Popen` the
    tests use: ``pid``, ``poll``, ``wait``, ``terminate``, ``kill``."""

    def __init__(self, args: list[str], env: dict[str, str], output: Path) -> None:
        self.args = args
        self.output = output
        self._process = _fork_server().Process(
            target=_main, args=(list(args), dict(env), str(output)), daemon=True
        )
        self._process.start()
        self.pid = self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        self._process.join(0)
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired(["dropbell", *self.args], timeout or 0)
        return self._process.exitcode

    def terminate(self) -> None:
        self._process.terminate()

    def kill(self) -> None:
        self._process.kill()


def start(args: list[str], env: dict[str, str], output: Path) -> Process:
    """``dropbell ARGS`` in a process of its own, environment ``env`` (nothing else of
    this one's), output appended to ``output``."""
    return Process(args, env, output)


def run(args: list[str], env: dict[str, str], output: Path, timeout: float = 120) -> int:
    """``dropbell ARGS`` to its end: its exit status (a command past ``timeout`` is killed)."""
    process = start(args, env, output)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
