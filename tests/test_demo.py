"""`dropbell demo` through the command line, on both databases: it loads only into an empty
database (restarting ./scripts/start keeps what people did); --reset starts it over."""

from __future__ import annotations

import anyio
import httpx
import pytest
from click.testing import Result
from typer.testing import CliRunner

from dropbell.cli import app
from dropbell.tools.demo import data as demo

pytestmark = pytest.mark.anyio


async def _demo(database_url: str, *args: str, answer: str | None = None) -> Result:
    """The CLI in a thread: it runs its own event loop, and this test already has one."""
    argv = ["demo", "--database-url", database_url, *args]
    return await anyio.to_thread.run_sync(lambda: CliRunner().invoke(app, argv, input=answer))


async def _post_as_shopper(client: httpx.AsyncClient, text: str) -> int:
    r = await client.post(
        "/api/v1/auth/token",
        json={"username": demo.SHOPPER, "password": demo.PASSWORD, "platform": "ios"},
    )
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    r = await client.post(
        "/api/v1/posts", json={"text": text}, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _drop_titles(client: httpx.AsyncClient) -> list[str]:
    drops = (await client.get("/api/v1/drops", params={"status": "all"})).json()
    return sorted(d["title"] for d in drops)


async def test_a_second_demo_keeps_what_people_did(
    database_url: str, client: httpx.AsyncClient
) -> None:
    first = await _demo(database_url)
    assert first.exit_code == 0, first.output
    assert "dropbell-demo" in first.output
    assert await _drop_titles(client) == sorted(d.title for d in demo.DROPS)
    post = await _post_as_shopper(client, "Set my alarm for #UnionVarsity26")

    again = await _demo(database_url)  # what ./scripts/start runs on every start
    assert again.exit_code == 0, again.output
    assert "already has data" in again.output and "dropbell demo --reset" in again.output
    assert (await client.get(f"/api/v1/posts/{post}")).status_code == 200
    assert await _drop_titles(client) == sorted(d.title for d in demo.DROPS)


async def test_reset_warns_asks_and_reloads(database_url: str, client: httpx.AsyncClient) -> None:
    assert (await _demo(database_url)).exit_code == 0
    post = await _post_as_shopper(client, "This one goes with the reset")

    declined = await _demo(database_url, "--reset", answer="n\n")
    assert declined.exit_code == 1
    assert "deletes the demo's 11 accounts" in declined.output
    assert "5 drops" in declined.output
    assert (await client.get(f"/api/v1/posts/{post}")).status_code == 200

    reset = await _demo(database_url, "--reset", "--yes")
    assert reset.exit_code == 0, reset.output
    assert "deletes the demo's" in reset.output and "dropbell-demo" in reset.output
    assert (await client.get(f"/api/v1/posts/{post}")).status_code == 404
    assert await _drop_titles(client) == sorted(d.title for d in demo.DROPS)


async def test_demo_loads_into_an_empty_database_only(
    database_url: str, api: object, client: httpx.AsyncClient
) -> None:
    await api.signup(username="alice")  # type: ignore[attr-defined]
    result = await _demo(database_url)
    assert result.exit_code == 0, result.output
    assert "already has data (1 account)" in result.output
    assert await _drop_titles(client) == []


async def test_the_demo_shopper_follows_a_brand_and_heard_of_its_drops(
    database_url: str, client: httpx.AsyncClient
) -> None:
    assert (await _demo(database_url)).exit_code == 0
    r = await client.post(
        "/api/v1/auth/token",
        json={"username": demo.SHOPPER, "password": demo.PASSWORD, "platform": "ios"},
    )
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    page = (await client.get("/api/v1/accounts/maison_aurelle", headers=headers)).json()
    assert page["following"] is True and page["followers_count"] == len(demo.FOLLOWERS)
    inbox = await client.get(
        "/api/v1/notifications", headers=headers, params={"types[]": "drop_announced"}
    )
    titles = sorted(n["drop"]["title"] for n in inbox.json())
    ours = sorted(d.title for d in demo.DROPS if d.brand == "maison_aurelle")
    assert titles == ours
