"""Every test runs twice: on SQLite and on PostgreSQL, each on a schema built by the migrations.

Isolation: SQLite gets a fresh copy of a migrated template file per test;
PostgreSQL gets its tables truncated. PostgreSQL being unreachable is an error,
never a skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from dropbell import i18n
from dropbell.app import create_app
from dropbell.clock import FakeClock
from dropbell.config import Settings
from dropbell.db import Base, make_engine
from dropbell.migrate import upgrade
from dropbell.notifications import service as notifications
from dropbell.reminders.scheduler import Scheduler
from tests.hashing import fast_password_hashing
from tests.helpers import Api

POSTGRES_ADMIN_URL = os.environ.get(
    "DROPBELL_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
BACKENDS = os.environ.get("DROPBELL_TEST_BACKENDS", "sqlite,postgresql").split(",")
START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    """Argon2 at its lowest cost: the tests sign up hundreds of accounts (tests/hashing.py)."""
    restore = fast_password_hashing()
    yield
    restore()


def _worker_suffix() -> str:
    return f"{os.getpid()}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


@pytest.fixture(scope="session", params=BACKENDS)
async def template_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A database built by the Alembic migrations, once per backend and session."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "template.db"
        url = f"sqlite+aiosqlite:///{path}"
        engine = make_engine(url)
        await upgrade(engine)
        await engine.dispose()
        yield url
        return
    admin = make_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"dropbell_test_{_worker_suffix()}"
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()
    yield url
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


# Emptying PostgreSQL's tables for the next test: DELETE, children before parents, and
# every sequence back to its start, is what TRUNCATE … RESTART IDENTITY CASCADE did, in a
# few milliseconds instead of a fifth of a second (TRUNCATE makes each table a new file,
# and the cost grows with every table added; docs/testing.md).
RESTART_SEQUENCES = text(
    "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false) "
    "FROM pg_sequences WHERE schemaname = current_schema()"
)


@pytest.fixture
async def database_url(template_url: str, tmp_path: Path) -> str:
    """A clean database for one test."""
    if template_url.startswith("sqlite"):
        source = Path(template_url.split("///", 1)[1])
        target = tmp_path / "test.db"
        shutil.copyfile(source, target)
        return f"sqlite+aiosqlite:///{target}"
    engine = make_engine(template_url)
    try:
        async with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(table.delete())
            await conn.execute(RESTART_SEQUENCES)
    except IntegrityError:  # tables that refer to each other in a circle: TRUNCATE them
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()
    return template_url


@pytest.fixture
async def scratch_engine(template_url: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An empty database of the same kind, to migrate up and down."""
    if template_url.startswith("sqlite"):
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'scratch.db'}")
        yield engine
        await engine.dispose()
        return
    admin = make_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"{make_url(template_url).database}_scratch"
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(
        make_url(template_url).set(database=name).render_as_string(hide_password=False)
    )
    yield engine
    await engine.dispose()
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


@pytest.fixture
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        public_url="http://dropbell.test",
        media_dir=tmp_path / "media",  # uploaded images: never in the working directory
        rollout_platforms="ios",
        rollout_countries="US",
        rollout_languages="en",
        # Limits are off here (the tests sign up hundreds of accounts from one address);
        # tests/test_limits.py turns them on.
        rate_limit_signup="off",
        rate_limit_token="off",
        rate_limit_remind="off",
        rate_limit_post="off",
        remind_new_drops_per_minute=0,
        metrics_token="metrics-test-token",
    )


# How an inbox finds the notices a shopper sees (notifications.service.list_for): joining
# their reminders to the drops' notices; walking the newest notices (what a shopper with
# hundreds of reminders gets on SQLite, here from the first reminder, and on PostgreSQL
# too, which otherwise joins); and a walk too short to fill a page, which falls back to
# the join. All three must give the same inbox on both databases.
INBOX_READS = {
    "join": (None, 1_000),
    "walk": (1, 1_000),
    "short-walk": (1, 2),
}


@pytest.fixture(params=list(INBOX_READS))
def inbox_read(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test once per way of reading an inbox."""
    periods, notices = INBOX_READS[request.param]
    monkeypatch.setattr(notifications, "WALK_PERIODS", periods)
    monkeypatch.setattr(notifications, "WALK_NOTICES", notices)
    monkeypatch.setattr(notifications, "WALK_DATABASES", frozenset({"sqlite", "postgresql"}))
    return str(request.param)


@pytest.fixture
async def app(settings: Settings, clock: FakeClock) -> AsyncIterator[object]:
    application = create_app(settings, clock)
    yield application
    await application.state.engine.dispose()
    # In process (httpx's ASGI transport) the app runs in the test runner's task, so a
    # page rendered in Arabic would leave the request's language set for the next test:
    # English again, as a server's next request (a task of its own) starts with.
    i18n.set_for_request(i18n.DEFAULT)


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://dropbell.test") as c:
        yield c


@pytest.fixture
def scheduler(app: object, clock: FakeClock, settings: Settings) -> Scheduler:
    return Scheduler(app.state.sessionmaker, clock, settings, worker_id="worker-1")  # type: ignore[attr-defined]


@pytest.fixture
def api(client: httpx.AsyncClient, app: object, clock: FakeClock) -> Api:
    return Api(client, app, clock)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """A skipped test is a failed test here: nothing in this suite may quietly not run."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, and skips count as failures in dropbell: {report.longrepr}"
