"""Pushing a released notice: encryption, headers, outcomes, retries, TTL, alerts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from dropbell.clock import FakeClock
from dropbell.push.jobs import PushWorker
from dropbell.push.models import JobState
from dropbell.push.testservice import Answer
from tests.helpers import Api
from tests.push.helpers import PushApi, launch

pytestmark = pytest.mark.anyio


async def test_the_push_service_decrypts_the_right_json(
    api: Api, push: PushApi, push_worker: PushWorker
) -> None:
    drop = await push.drop()
    _, device = await push.subscriber(drop)
    notice = await push.release(drop, "drop_live")
    assert await push_worker.run_due() == 1

    assert push.service.problems == []
    [got] = push.service.for_token(device.token)
    assert got.payload == {
        "title": "Air Bell 1 is live",
        "body": got.payload["body"],
        "icon": "http://dropbell.test/static/icons/icon-192.png",
        "url": f"http://dropbell.test/drops/{drop['id']}?source=push",
        "tag": f"drop-{drop['id']}-live",
        "notification_id": notice,
        "type": "drop_live",
    }
    assert got.payload["body"].endswith("shop it now.")
    assert got.headers["urgency"] == "high"
    assert got.headers["topic"] == f"drop-{drop['id']}"
    assert got.headers["ttl"] == "3600"  # the launch notice is worth an hour
    assert got.headers["content-encoding"] == "aes128gcm"
    assert got.claims["aud"] == push.service.origin
    assert got.claims["sub"] == "mailto:push@localhost"
    assert await push.ledger() == {"sent": 1}
    assert (await push.job(notice)).state == JobState.DONE

    text = await api.metrics()
    assert 'dropbell_pushes_total{outcome="sent"}' in text
    assert "dropbell_push_send_seconds_bucket" in text


async def test_a_lead_push_is_normal_urgency_and_lives_until_the_launch(
    push: PushApi, push_worker: PushWorker
) -> None:
    drop = await push.drop()
    _, device = await push.subscriber(drop)
    await push.release(drop, "drop_soon")
    await push_worker.run_due()
    [got] = push.service.for_token(device.token)
    assert got.payload["tag"] == f"drop-{drop['id']}-soon"
    assert got.payload["title"] == "Air Bell 1 drops in 15 minutes"
    assert got.headers["urgency"] == "normal"
    assert got.headers["ttl"] == str(15 * 60)
    assert got.headers["topic"] == f"drop-{drop['id']}"  # the launch push replaces it


@pytest.mark.parametrize("status", [404, 410])
async def test_gone_removes_the_subscription(
    api: Api, push: PushApi, push_worker: PushWorker, status: int
) -> None:
    drop = await push.drop()
    user, device = await push.subscriber(drop)
    _, _other = await push.subscriber(drop)
    push.service.script(device.token, status)
    await push.release(drop)
    await push_worker.run_due()
    assert await push.ledger() == {"removed": 1, "sent": 1}
    r = await api.client.get("/api/v1/push/subscription", headers=user.headers)
    assert r.status_code == 404
    assert await push.subscription_count() == 1
    stats = await _push_stats(push, drop["id"])
    assert stats.removed_subscriptions == 1 and stats.sent == 1


async def test_too_large_fails_and_keeps_the_subscription(
    push: PushApi, push_worker: PushWorker
) -> None:
    drop = await push.drop()
    _, device = await push.subscriber(drop)
    push.service.script(device.token, 413)
    await push.release(drop)
    await push_worker.run_due()
    assert await push.ledger() == {"failed": 1}
    assert await push.subscription_count() == 1


async def test_429_and_503_are_retried_then_delivered(
    push: PushApi, push_worker: PushWorker, clock: FakeClock
) -> None:
    drop = await push.drop()
    _, busy = await push.subscriber(drop)
    _, fine = await push.subscriber(drop)
    push.service.script(busy.token, Answer(429, retry_after="30"), 503)
    notice = await push.release(drop)
    released = clock.now()

    await push_worker.run_due()
    assert len(push.service.for_token(fine.token)) == 1
    assert await push.ledger() == {"sent": 1, "pending": 1}
    job = await push.job(notice)
    assert job.state == JobState.PENDING and job.wake_at == released + timedelta(seconds=30)

    clock.advance(29)
    assert await push_worker.run_due() == 0  # Retry-After is honoured
    clock.advance(1)
    await push_worker.run_due()  # 503: backoff, 2 s then 4 s
    job = await push.job(notice)
    assert job.wake_at == released + timedelta(seconds=34)
    clock.advance(4)
    await push_worker.run_due()

    assert [r.status for r in push.service.for_token(busy.token)] == [429, 503, 201]
    assert len(push.service.for_token(fine.token)) == 1
    assert await push.ledger() == {"sent": 2}
    assert (await push.job(notice)).state == JobState.DONE
    stats = await _push_stats(push, drop["id"])
    assert stats.sent == 2 and stats.lateness_ms.p99 == 34_000


async def test_retries_are_bounded(
    push: PushApi, push_worker: PushWorker, clock: FakeClock
) -> None:
    drop = await push.drop()
    _, device = await push.subscriber(drop)
    push.service.script(device.token, 503, 502, 500, 503)
    await push.release(drop)
    for _ in range(5):
        await push_worker.run_due()
        clock.advance(60)
    assert len(push.service.for_token(device.token)) == 3  # push_max_attempts
    assert await push.ledger() == {"failed": 1}


async def test_a_push_past_its_ttl_is_never_sent(
    push: PushApi, push_worker: PushWorker, clock: FakeClock
) -> None:
    drop = await push.drop()
    _, _device = await push.subscriber(drop)
    notice = await push.release(drop)
    clock.advance(timedelta(hours=1))  # the worker was down for the whole hour
    await push_worker.run_due()
    assert push.service.received == []
    assert (await push.job(notice)).state == JobState.EXPIRED


async def test_a_retry_that_would_come_after_the_ttl_is_dropped(
    push: PushApi, push_worker: PushWorker, clock: FakeClock
) -> None:
    drop = await push.drop()
    _, device = await push.subscriber(drop)
    push.service.script(device.token, Answer(429, retry_after="7200"))
    notice = await push.release(drop)
    await push_worker.run_due()
    clock.advance(timedelta(hours=3))
    await push_worker.run_due()
    assert len(push.service.for_token(device.token)) == 1
    assert await push.ledger() == {"expired": 1}
    assert (await push.job(notice)).state == JobState.DONE


async def test_alerts_off_or_logged_out_gives_nothing(
    api: Api, push: PushApi, push_worker: PushWorker
) -> None:
    drop = await push.drop()
    _, quiet = await push.subscriber(drop, alerts={"drop_live": False})
    gone_user, gone = await push.subscriber(drop)
    _, wants = await push.subscriber(drop, alerts={"drop_soon": False})
    _, stranger = await push.subscriber()  # subscribed, but no reminder on this drop
    r = await api.client.post("/api/v1/auth/revoke", headers=gone_user.headers)
    assert r.status_code == 200
    await push.release(drop)
    await push_worker.run_due()
    assert push.service.for_token(quiet.token) == []
    assert push.service.for_token(gone.token) == []
    assert push.service.for_token(stranger.token) == []
    assert len(push.service.for_token(wants.token)) == 1


async def test_every_device_of_an_account_gets_it(
    api: Api, push: PushApi, push_worker: PushWorker
) -> None:
    drop = await push.drop()
    user, laptop = await push.subscriber(drop)
    r = await api.client.post(
        "/api/v1/auth/token",
        json={"username": user.username, "password": "correct horse battery", "platform": "ios"},
    )
    phone = push.device()
    r = await api.client.post(
        "/api/v1/push/subscription",
        json={"subscription": phone.as_json()},
        headers={"Authorization": f"Bearer {r.json()['access_token']}"},
    )
    assert r.status_code == 200
    await push.release(drop)
    await push_worker.run_due()
    assert len(push.service.for_token(laptop.token)) == 1
    assert len(push.service.for_token(phone.token)) == 1


async def test_concurrency_is_bounded(push: PushApi, push_worker: PushWorker) -> None:
    """Slow answers: never more than push_concurrency (8) pushes in flight."""
    push_worker.settings.push_batch_size = 20
    drop = await push.drop()
    devices = [(await push.subscriber(drop))[1] for _ in range(12)]
    hold = asyncio.Event()
    for device in devices:
        push.service.script(device.token, Answer(201, hold=hold))
    await push.release(drop)
    task = asyncio.create_task(push_worker.run_due())
    # The pushes arrive over real sockets: wait (bounded) until the first eight are held.
    async with asyncio.timeout(10):
        await push.service.wait_in_flight(8)
    assert push.service.in_flight == 8
    hold.set()
    await task
    assert push.service.max_in_flight == 8
    assert await push.ledger() == {"sent": 12}


async def _push_stats(push: PushApi, drop_id: int):  # type: ignore[no-untyped-def]
    from dropbell.push.service import push_stats

    async with push.sessionmaker() as session:
        return await push_stats(session, drop_id)


async def test_stats_without_pushes(push: PushApi) -> None:
    drop = await push.drop()
    stats = await _push_stats(push, drop["id"])
    assert stats.model_dump() == {
        "sent": 0,
        "failed": 0,
        "expired": 0,
        "pending": 0,
        "removed_subscriptions": 0,
        "lateness_ms": {"p50": None, "p99": None},
    }
    assert launch(drop) > push.api.clock.now()
