"""VAPID keys: made once and kept, or the operator's; rotated; never logged."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr
from sqlalchemy import func, select
from typer.testing import CliRunner

from dropbell import errors
from dropbell.cli import app as cli
from dropbell.clock import FakeClock
from dropbell.config import Settings
from dropbell.context import Context
from dropbell.db import transaction
from dropbell.push import keys
from dropbell.push.jobs import PushWorker
from dropbell.push.models import PushKey
from dropbell.push.sender import Sender, origin_of
from tests.helpers import Api
from tests.push.helpers import PushApi

pytestmark = pytest.mark.anyio


def _raw(private: ec.EllipticCurvePrivateKey) -> str:
    return keys.b64url(private.private_numbers().private_value.to_bytes(32, "big"))


async def test_rotation_retires_the_key_and_the_subscriptions(
    api: Api, push: PushApi, push_worker: PushWorker, clock: FakeClock, settings: Settings
) -> None:
    drop = await push.drop()
    user, old_device = await push.subscriber(drop)
    old_key = await push.server_key()
    rotated_at = clock.now()
    async with transaction(push.sessionmaker) as session:
        rotation = await keys.rotate_key(Context(session, clock, settings))
    assert rotation.removed_subscriptions == 1
    new_key = await push.server_key()
    assert new_key == rotation.public_key != old_key
    r = await api.client.get("/api/v1/push/subscription", headers=user.headers)
    assert r.status_code == 404  # the client subscribes again, with the new key
    r = await push.subscribe(user, push.device())
    assert r.status_code == 200 and r.json()["server_key"] == new_key

    await push.release(drop)
    await push_worker.run_due()
    assert push.service.problems == []  # signed with the new key (service checks k)
    assert len(push.service.received) == 1 and push.service.for_token(old_device.token) == []
    async with push.sessionmaker() as session:
        rows = (await session.execute(select(PushKey.current, PushKey.retired_at))).all()
    assert sorted(rows, key=lambda r: r[0] is None) == [(True, None), (None, rotated_at)]


@pytest.mark.parametrize("form", ["pem", "raw"])
async def test_the_operators_key_wins_and_is_never_logged(
    push: PushApi,
    push_worker: PushWorker,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    form: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    secret = pem if form == "pem" else _raw(private)
    settings = push_worker.settings.model_copy(update={"vapid_private_key": SecretStr(secret)})
    push.api.app.state.settings = settings
    push_worker.settings = settings
    assert await push.server_key() == keys.public_of(private)

    drop = await push.drop()
    await push.subscriber(drop)
    await push.release(drop)
    await push_worker.run_due()
    assert push.service.problems == [] and len(push.service.received) == 1
    async with push.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(PushKey)) == 0
        with pytest.raises(errors.Conflict):
            await keys.rotate_key(Context(session, clock, settings))
    assert repr(settings).count(_raw(private)) == 0 and "BEGIN" not in repr(settings)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert _raw(private) not in logged and "PRIVATE KEY" not in logged


def test_a_bad_operator_key_says_why_without_showing_it() -> None:
    with pytest.raises(ValueError, match="not a usable key") as info:
        keys.parse_private_key("c2VjcmV0LWJ1dC13cm9uZy1sZW5ndGg")
    assert "c2VjcmV0" not in str(info.value)


async def test_the_vapid_header_is_cached_per_origin_and_signed_again_before_expiry(
    push: PushApi, clock: FakeClock, settings: Settings
) -> None:
    sender = Sender(settings, clock)
    async with transaction(push.sessionmaker) as session:
        key = await keys.current_key(Context(session, clock, settings))
    origin = await sender._origin(origin_of(push.device().endpoint))
    aud = push.service.origin
    first = sender._vapid(origin, aud, key, clock.now())
    clock.advance(timedelta(hours=10))
    assert sender._vapid(origin, aud, key, clock.now()) == first
    clock.advance(timedelta(hours=1, seconds=1))
    assert sender._vapid(origin, aud, key, clock.now()) != first
    await sender.aclose()


def test_cli_shows_and_rotates_the_key(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    shown = runner.invoke(cli, ["push", "key", "--database-url", db])
    assert shown.exit_code == 0, shown.output
    assert "from the database" in shown.output
    again = runner.invoke(cli, ["push", "key", "--database-url", db])
    assert again.output == shown.output
    refused = runner.invoke(cli, ["push", "rotate-key", "--database-url", db], input="n\n")
    assert refused.exit_code == 1
    rotated = runner.invoke(cli, ["push", "rotate-key", "--yes", "--database-url", db])
    assert rotated.exit_code == 0, rotated.output
    assert "0 subscriptions removed" in rotated.output
    after = runner.invoke(cli, ["push", "key", "--database-url", db])
    assert after.output != shown.output
