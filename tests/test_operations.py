from __future__ import annotations

from datetime import timedelta

import pytest

from dropbell.reminders.scheduler import Scheduler
from tests.helpers import Api

pytestmark = pytest.mark.anyio


async def test_health_and_metrics(api: Api, scheduler: Scheduler) -> None:
    r = await api.client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    brand = await api.partner()
    shopper = await api.signup()
    drop = await api.create_drop(brand, in_=timedelta(minutes=5))
    await api.remind(shopper, drop["id"])
    api.clock.advance(timedelta(minutes=5))
    await scheduler.run_due()
    text = await api.metrics()
    assert 'dropbell_notifications_total{type="drop_live"}' in text
    assert 'dropbell_notices_released_total{type="drop_live"}' in text
    assert "dropbell_notice_count_seconds_bucket" in text
    assert "dropbell_delivery_lateness_seconds_bucket" in text


async def test_metrics_are_only_for_the_metrics_token(api: Api) -> None:
    r = await api.client.get("/metrics")
    assert (r.status_code, r.json()["code"]) == (401, "unauthorized")
    shopper = await api.signup()  # an account's token is not the metrics token
    for headers in (shopper.headers, {"Authorization": "Bearer metrics-test-tokeN"}):
        r = await api.client.get("/metrics", headers=headers)
        assert r.status_code == 401 and "dropbell_" not in r.text
    assert "dropbell_notifications_total" in await api.metrics()
    api.app.state.settings.metrics_token = None  # not configured: nothing to see
    r = await api.client.get("/metrics", headers={"Authorization": "Bearer metrics-test-token"})
    assert (r.status_code, r.json()["code"]) == (404, "not_found")


async def test_health_says_when_the_database_is_gone(api: Api) -> None:
    await api.app.state.engine.dispose()
    api.app.state.engine = __import__("dropbell.db", fromlist=["make_engine"]).make_engine(
        "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    )
    r = await api.client.get("/healthz")
    assert r.status_code == 503 and r.json() == {"status": "unavailable"}


async def test_openapi_lists_the_whole_api_and_errors_are_json(api: Api) -> None:
    assert (await api.client.get("/docs")).status_code == 200
    schema = (await api.client.get("/openapi.json")).json()
    paths = schema["paths"]
    for path in (
        "/api/v1/accounts",
        "/api/v1/auth/token",
        "/api/v1/accounts/me",
        "/api/v1/drops",
        "/api/v1/drops/{drop_id}",
        "/api/v1/drops/{drop_id}/cancel",
        "/api/v1/drops/{drop_id}/remind",
        "/api/v1/drops/{drop_id}/unremind",
        "/api/v1/drops/{drop_id}/stats",
        "/api/v1/drops/{drop_id}/stats.csv",
        "/drops/{drop_id}/shop",
        "/api/v1/notifications",
        "/api/v1/notifications/unread_count",
        "/api/v1/notifications/{notification_id}/read",
        "/api/v1/notifications/read_all",
    ):
        assert path in paths, path
    r = await api.client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = await api.client.post(
        "/api/v1/accounts", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["code"] == "bad_request"  # 422: wrong shape
    r = await api.client.delete("/api/v1/drops")
    assert r.status_code == 405 and "code" in r.json()


async def test_home_page_lists_drops(api: Api) -> None:
    brand = await api.partner()
    await api.create_drop(brand, title="Night Market bricks")
    r = await api.client.get("/")
    assert r.status_code == 200 and "Night Market bricks" in r.text


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/drops/abc",
        "/api/v1/drops/0",
        "/api/v1/drops/-1",
        "/api/v1/drops/99999999999999999999999",
        "/api/v1/drops?max_id=99999999999999999999999",
        "/api/v1/drops?limit=0",
        "/api/v1/drops?status=soon",
    ],
)
async def test_odd_ids_and_parameters_are_422_not_500(api: Api, path: str) -> None:
    r = await api.client.get(path)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid"


async def test_the_largest_id_is_simply_not_found(api: Api) -> None:
    r = await api.client.get(f"/api/v1/drops/{2**63 - 1}")
    assert r.status_code == 404
    r = await api.client.get("/api/v1/drops", params={"max_id": 2**63 - 1})
    assert r.status_code == 200
