"""A push is written in its recipient's language (the account's), one notice for all."""

from __future__ import annotations

import pytest

from dropbell.config import Settings
from dropbell.push.jobs import PushWorker
from dropbell.push.testservice import Device
from tests.helpers import Api
from tests.push.helpers import PushApi

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Every language may remind (the rollout is not what is tested)."""
    return settings.model_copy(update={"rollout_languages": "*", "rollout_countries": "*"})


async def _subscriber(api: Api, push: PushApi, drop_id: int, language: str) -> Device:
    await push.server_key()
    user = await api.signup(language=language)
    device = push.device()
    assert (await push.subscribe(user, device)).status_code == 200
    assert (await api.remind(user, drop_id)).status_code == 200
    return device


async def test_each_subscriber_reads_the_push_in_their_language(
    api: Api, push: PushApi, push_worker: PushWorker
) -> None:
    drop = await push.drop()
    devices = {lang: await _subscriber(api, push, drop["id"], lang) for lang in ("en", "fr", "ar")}
    spanish = await _subscriber(api, push, drop["id"], "es")
    german = await _subscriber(api, push, drop["id"], "de")  # no catalog: English

    await push.release(drop, "drop_soon")
    await push_worker.run_due()
    soon = {lang: push.service.for_token(d.token)[0].payload for lang, d in devices.items()}
    assert soon["en"]["title"] == "Air Bell 1 drops in 15 minutes"
    assert soon["fr"]["title"] == "Air Bell 1 sort dans 15 minutes"
    assert soon["ar"]["title"] == "Air Bell 1 يُطلق بعد 15 دقيقة"
    assert soon["fr"]["body"].endswith("· touchez pour vous préparer.")

    await push.release(drop, "drop_live")
    await push_worker.run_due()
    live = {lang: push.service.for_token(d.token)[-1].payload for lang, d in devices.items()}
    assert live["en"]["title"] == "Air Bell 1 is live"
    assert live["fr"]["title"] == "Air Bell 1 est en ligne"
    assert live["ar"]["title"] == "Air Bell 1 متاح الآن"
    assert live["ar"]["body"].endswith("· تسوّقه الآن.")
    assert push.service.for_token(spanish.token)[-1].payload["title"] == (
        "Air Bell 1 ya está disponible"
    )
    assert push.service.for_token(german.token)[-1].payload["title"] == "Air Bell 1 is live"
    # one notice, the same everywhere but its words
    assert len({p["notification_id"] for p in live.values()}) == 1
    assert len({p["url"] for p in live.values()}) == 1
    assert await push.ledger() == {"sent": 10}
