"""Real servers for the browser tests: `dropbell serve` subprocesses, databases, a brand's shop.

Everything runs on this machine's loopback addresses only.
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import os
import random
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from dropbell.db import make_engine
from tests import procs

SRC = procs.SRC
POSTGRES_ADMIN_URL = os.environ.get(
    "DROPBELL_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
CHROMIUM = os.environ.get("DROPBELL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


# --- databases -------------------------------------------------------------------------


def run_async(coro_fn: Any, *args: Any) -> Any:
    """Run a coroutine to completion on a thread of its own (Playwright's loop owns this one)."""
    box: dict[str, Any] = {}

    def main() -> None:
        try:
            box["value"] = asyncio.run(coro_fn(*args))
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=main)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


async def _admin_sql(sql: str) -> None:
    admin = make_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await admin.dispose()


async def _set_image(database_url: str, drop_id: int, image_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE drops SET image_url = :url WHERE id = :id"),
                {"url": image_url, "id": drop_id},
            )
    finally:
        await engine.dispose()


def _admin(sql: str) -> None:
    run_async(_admin_sql, sql)


def _postgres_url(name: str) -> str:
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def template_database(backend: str, label: str) -> str:
    """A new, empty database that lives as long as this process, to fill once and copy
    for each test (:func:`copy_of`): a SQLite file or a PostgreSQL database."""
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix=f"dropbell-{label}-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        return f"sqlite+aiosqlite:///{folder}/template.db"
    name = f"dropbell_{label}_{os.getpid()}_{next(_counter)}_template"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    atexit.register(_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return _postgres_url(name)


@contextmanager
def copy_of(template_url: str, tmp: Path) -> Iterator[str]:
    """A database of its own for one test, as ``template_url``'s is now: a copy of the
    SQLite file, or ``CREATE DATABASE … TEMPLATE`` (nothing may be connected to it)."""
    if template_url.startswith("sqlite"):
        target = tmp / f"db{next(_counter)}.db"
        shutil.copyfile(template_url.split("///", 1)[1], target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    template = make_url(template_url).database
    name = f"dropbell_web_{os.getpid()}_{next(_counter)}"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield _postgres_url(name)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_migrated: dict[str, str] = {}


@contextmanager
def fresh_database(backend: str, tmp: Path) -> Iterator[str]:
    """A new, empty database at the newest revision for one test: a copy of this
    process's migrated template (``dropbell migrate`` runs once per process and backend,
    not once per test)."""
    if backend not in _migrated:
        url = template_database(backend, "web")
        run_cli(url, "migrate")
        _migrated[backend] = url
    with copy_of(_migrated[backend], tmp) as url:
        yield url


def _env(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DROPBELL_")}
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env["DROPBELL_DATABASE_URL"] = database_url
    env.update(extra or {})
    return env


def run_cli(database_url: str, *args: str) -> str:
    """``dropbell ARGS`` on that database, in a process of its own (tests/procs.py): its
    output; a command that fails fails the test."""
    fd, name = tempfile.mkstemp(prefix="dropbell-cli-", suffix=".log")
    os.close(fd)
    output = Path(name)
    try:
        status = procs.run(list(args), _env(database_url), output, timeout=120)
        text = output.read_text(errors="replace")
    finally:
        output.unlink(missing_ok=True)
    assert status == 0, f"dropbell {' '.join(args)} failed:\n{text}"
    return text


# --- a dropbell server ------------------------------------------------------------------


class Server:
    """`dropbell serve` in a subprocess, with test hooks (its clock is moved over HTTP)."""

    def __init__(
        self,
        database_url: str,
        log_dir: Path,
        *,
        scheduler: bool = True,
        env: dict[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"server-{self.port}.log"
        extra = {
            "DROPBELL_TEST_HOOKS": "1",
            "DROPBELL_PUBLIC_URL": self.base,
            "DROPBELL_SCHEDULER_POLL_SECONDS": "0.1",
            **(env or {}),
        }
        args = ["serve", "--host", "127.0.0.1"]
        args += [
            "--port",
            str(self.port),
            "--log-level",
            os.environ.get("DROPBELL_TEST_SERVER_LOG", "warning"),
        ]
        if not scheduler:
            args.append("--no-scheduler")
        # A fork of this process's warm fork server (tests/procs.py): up in a fraction of
        # a second, not the two of a new interpreter's imports.
        self.proc = procs.start(args, _env(database_url, extra), self.log_path)
        self.http = httpx.Client(base_url=self.base, timeout=30)
        self._wait_up()

    def _wait_up(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dropbell serve exited:\n{self.log()}")
            try:
                if self.http.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"dropbell serve did not come up:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def url(self, path: str) -> str:
        return self.base + path

    # the server's fake clock

    def now(self) -> datetime:
        return datetime.fromisoformat(self.http.get("/_test/clock").json()["now"])

    def set_clock(self, when: datetime) -> None:
        r = self.http.post("/_test/clock", json={"now": when.isoformat()})
        assert r.status_code == 200, r.text

    # acting through the API

    def signup(self, username: str, *, platform: str = "ios", **fields: Any) -> str:
        body = {"username": username, "password": PASSWORD, "country": "US", "language": "en"}
        body.update(fields)
        r = self.http.post("/api/v1/accounts", json=body)
        assert r.status_code == 201, r.text
        return self.token(username, platform)

    def token(self, username: str, platform: str = "ios") -> str:
        r = self.http.post(
            "/api/v1/auth/token",
            json={"username": username, "password": PASSWORD, "platform": platform},
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def api(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(
            method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs
        )

    def create_drop(self, token: str, *, in_: timedelta, **fields: Any) -> dict[str, Any]:
        body = {
            "title": "Test drop",
            "launch_at": iso(self.now() + in_),
            "shop_url": "https://shop.example/x",
            "tag": f"drop{next(_counter)}",
        }
        # A picture shipped with dropbell (/static/demo/…) is set as the demo sets it, in
        # the database: brands may only link images on other hosts (issue 11), and the
        # browser here reaches no other host.
        shipped = fields.pop("image_url", None)
        body.update(fields)
        r = self.api("POST", "/api/v1/drops", token, json=body)
        assert r.status_code == 201, r.text
        drop = dict(r.json())
        if shipped is not None:
            assert shipped.startswith("/static/"), shipped
            run_async(_set_image, self.database_url, drop["id"], shipped)
            drop["image_url"] = shipped
        return drop


# --- the brand's website ------------------------------------------------------------------


class ShopSite:
    """A brand's shop over real https on port 443 of a loopback address of its own.

    Shop links must be https on the standard port and on an approved domain, so
    the test shop is ``https://127.a.b.c/`` with a self-signed certificate (the
    browser context ignores certificate errors). Binding port 443 needs root,
    which CI has.
    """

    def __init__(self, workdir: Path) -> None:
        self.host = (
            f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
        )
        self.domain = self.host
        cert, key = workdir / "shop.crt", workdir / "shop.key"
        openssl = shutil.which("openssl")
        assert openssl, "the browser tests need the openssl command to make the shop's certificate"
        subprocess.run(
            [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={self.host}", "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        self.visits: list[str] = []
        visits = self.visits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                visits.append(self.path)
                body = (
                    "<!doctype html><html lang=en><head><meta charset=utf-8>"
                    "<title>Brand shop</title></head><body>"
                    f"<h1>Brand shop</h1><p id=path>{self.path}</p></body></html>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        try:
            self.server = ThreadingHTTPServer((self.host, 443), Handler)
        except PermissionError as exc:
            raise RuntimeError(
                "The shop stand-in listens on port 443 (shop links must use the standard "
                "https port): run the browser tests as root."
            ) from exc
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"https://{self.host}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
