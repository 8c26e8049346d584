"""The brand's figures in people (docs/api.md, "Stats"): the funnel reminded → told →
opened → clicked through, new reminders per hour before launch, opens and clicks by
source; the CSV download; the console's list and analytics page. Known data, a fake clock,
both databases."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from dropbell.reminders.scheduler import Scheduler
from tests.helpers import Api, User, remind_with

pytestmark = pytest.mark.anyio

HOUR = 3600


@asynccontextmanager
async def _visitor(api: Api, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """Someone not logged in, from a client address of their own."""
    transport = httpx.ASGITransport(app=api.app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://dropbell.test") as c:
        yield c


async def _stats(api: Api, brand: User, drop: dict[str, Any]) -> dict[str, Any]:
    r = await api.client.get(f"/api/v1/drops/{drop['id']}/stats", headers=brand.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def _shop(api: Api, drop: dict[str, Any], user: User | None, source: str) -> None:
    headers = user.headers if user else {}
    r = await api.client.get(
        f"/drops/{drop['id']}/shop", params={"source": source}, headers=headers
    )
    assert r.status_code == 302, r.text


async def _open_page(api: Api, drop: dict[str, Any], user: User, **params: str) -> None:
    r = await api.client.get(f"/drops/{drop['id']}", params=params, headers=user.headers)
    assert r.status_code == 200, r.text


def _launch(drop: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(drop["launch_at"])


async def _known_drop(
    api: Api, scheduler: Scheduler
) -> tuple[User, dict[str, Any], dict[str, User]]:
    """A drop launching at 17:00 (the clock starts at 12:00): five shoppers remind at
    known times, one undoes it before any notice, then the notices go out."""
    brand = await api.partner()
    drop = await api.create_drop(brand, in_=timedelta(hours=5), title='Sac, "Matelassé"')
    people = {name: await api.signup() for name in "abcdef"}
    start = api.clock.now()
    steps: list[tuple[timedelta, str, str]] = [
        (timedelta(0), "a", "remind"),  # 12:00: hour 4 before launch (12:00-13:00)
        (timedelta(0), "b", "remind"),
        (timedelta(minutes=30), "a", "leads"),  # the same shopper, other leads
        (timedelta(hours=2, minutes=10), "c", "remind"),  # 14:10: hour 2
        (timedelta(hours=2, minutes=20), "d", "remind"),  # 14:20: hour 2 ...
        (timedelta(hours=2, minutes=25), "d", "unremind"),  # ... undone: never told
        (timedelta(hours=4, minutes=50), "e", "remind"),  # 16:50: after the 16:45 lead
    ]
    for at, who, action in steps:
        api.clock.set(start + at)
        if action == "leads":
            r = await remind_with(api, people[who], drop["id"], [HOUR])
        else:
            url = f"/api/v1/drops/{drop['id']}/{action}"
            r = await api.client.post(url, headers=people[who].headers)
        assert r.status_code == 200, r.text
    for moment in (_launch(drop) - timedelta(seconds=900), _launch(drop)):
        api.clock.set(moment)
        await scheduler.run_due()
    return brand, drop, people


async def test_the_funnel_counts_shoppers_and_the_hours_count_first_reminders(
    api: Api, scheduler: Scheduler
) -> None:
    brand, drop, p = await _known_drop(api, scheduler)
    api.clock.set(_launch(drop) + timedelta(minutes=5))
    # a opens the launch notice in the inbox twice, and clicks Shop twice, an hour apart.
    live = (await api.inbox(p["a"]))[0]
    for _ in range(2):
        r = await api.client.post(
            f"/api/v1/notifications/{live['id']}/read", headers=p["a"].headers
        )
        assert r.status_code == 200
    await _shop(api, drop, p["a"], "notification")
    api.clock.advance(timedelta(hours=1))
    await _shop(api, drop, p["a"], "notification")
    # b taps the push: the drop page opens with ?source=push.
    await _open_page(api, drop, p["b"], source="push")
    # c comes from a post and clicks; f (never reminded) clicks on the drop page.
    await _open_page(api, drop, p["c"], via="post")
    await _shop(api, drop, p["c"], "post")
    await _open_page(api, drop, p["f"])
    await _shop(api, drop, p["f"], "drop")
    # Someone without an account opens the tag page's card twice and clicks twice, hours apart.
    async with _visitor(api, "198.51.100.7") as visitor:
        for _ in range(2):
            assert (
                await visitor.get(f"/drops/{drop['id']}", params={"via": "tag"})
            ).status_code == 200
            r = await visitor.get(f"/drops/{drop['id']}/shop", params={"source": "tag"})
            assert r.status_code == 302
            api.clock.advance(timedelta(hours=2))

    stats = await _stats(api, brand, drop)
    assert stats["funnel"] == {
        "reminded": 5,  # a, b, c, d (undone) and e
        "told": 4,  # d undid it before any notice
        "opened": 2,  # a in the inbox (twice), b by the push
        "clicked": 3,  # a (twice), c and f
        "clicked_anonymous": 1,  # one visitor, two clicks in two hours
    }
    assert stats["reminders"] == 4 and stats["opened"] == 1  # the fields kept as they were
    assert stats["shop_clicks"]["total"] == 6  # clicks per viewer and hour, as before
    assert stats["sources"] == {
        "notification": {"opens": 1, "clicks": 1},
        "push": {"opens": 1, "clicks": 0},
        "post": {"opens": 1, "clicks": 1},
        "tag": {"opens": 1, "clicks": 1},
        "drop": {"opens": 1, "clicks": 1},
    }
    launch = _launch(drop)
    assert stats["reminders_by_hour"] == [
        {"hours_before": 4, "start": _z(launch - timedelta(hours=5)), "reminders": 2},
        {"hours_before": 2, "start": _z(launch - timedelta(hours=3)), "reminders": 2},
        {"hours_before": 0, "start": _z(launch - timedelta(hours=1)), "reminders": 1},
    ]
    assert sum(h["reminders"] for h in stats["reminders_by_hour"]) == stats["funnel"]["reminded"]


def _z(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


async def test_an_instant_exactly_on_the_hour_is_in_the_hour_it_begins(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand, in_=timedelta(hours=3))
    shopper = await api.signup()
    api.clock.set(_launch(drop) - timedelta(hours=2))  # the start of the hour 1 before
    assert (await api.remind(shopper, drop["id"])).status_code == 200
    hours = (await _stats(api, brand, drop))["reminders_by_hour"]
    assert [(h["hours_before"], h["reminders"]) for h in hours] == [(1, 1)]


async def test_told_follows_the_released_notices_and_a_cancellation_tells_too(
    api: Api, scheduler: Scheduler
) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand, in_=timedelta(hours=2))
    early, late = await api.signup(), await api.signup()
    await remind_with(api, early, drop["id"], [HOUR])
    assert (await _stats(api, brand, drop))["funnel"]["told"] == 0  # nothing released yet
    api.clock.set(_launch(drop) - timedelta(seconds=HOUR))
    await scheduler.run_due()
    api.clock.advance(timedelta(seconds=1))
    await remind_with(api, late, drop["id"], [HOUR])  # after the lead's moment: not told by it
    assert (await _stats(api, brand, drop))["funnel"]["told"] == 1
    r = await api.client.post(f"/api/v1/drops/{drop['id']}/cancel", headers=brand.headers)
    assert r.status_code == 200, r.text
    await scheduler.run_due()
    funnel = (await _stats(api, brand, drop))["funnel"]
    assert (funnel["reminded"], funnel["told"]) == (2, 2)  # both are told it is off


async def test_no_activity_gives_zeros_and_an_empty_series(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand)
    stats = await _stats(api, brand, drop)
    assert set(stats["funnel"].values()) == {0}
    assert stats["reminders_by_hour"] == []
    assert all(v == {"opens": 0, "clicks": 0} for v in stats["sources"].values())


async def test_the_csv_has_every_figure_escaped_and_unlocalised(
    api: Api, scheduler: Scheduler
) -> None:
    brand, drop, _people = await _known_drop(api, scheduler)
    r = await api.client.patch(
        f"/api/v1/drops/{drop['id']}",
        json={"title": '=HYPERLINK("x"), "1,234"'},
        headers=brand.headers,
    )
    assert r.status_code == 200, r.text
    r = await api.client.get(f"/api/v1/drops/{drop['id']}/stats.csv", headers=brand.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    day = api.clock.now().date().isoformat()
    assert r.headers["content-disposition"] == (
        f'attachment; filename="drop-{drop["id"]}-{drop["tag"]}-{day}.csv"; '
        f"filename*=UTF-8''drop-{drop['id']}-{drop['tag']}-{day}.csv"
    )
    assert r.headers["cache-control"] == "no-store"
    assert r.content.startswith(b"\xef\xbb\xbf")  # UTF-8's byte order mark, for spreadsheets
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["section", "name", "value"]
    cells = {(s, n): v for s, n, v in rows[1:]}
    assert cells["drop", "title"] == "'" + '=HYPERLINK("x"), "1,234"'  # never run as a formula
    assert '"=HYPERLINK(""x""), ""1,234"""' not in r.text  # it was prefixed, then quoted
    assert cells["drop", "launch_at"] == drop["launch_at"]
    assert [cells["funnel", k] for k in ("reminded", "told", "opened", "clicked")] == [
        "5",
        "4",
        "0",
        "0",
    ]
    # The 1 h lead was due at 16:00 and released with the 15 min one at 16:45: 45 min late.
    assert cells["lateness_ms", "p50"] == "0.0" and cells["lateness_ms", "max"] == "2700000.0"
    hourly = [(n, v) for s, n, v in rows[1:] if s == "reminders_by_hour"]
    launch = _launch(drop)
    assert hourly == [
        (_z(launch - timedelta(hours=5)), "2"),
        (_z(launch - timedelta(hours=3)), "2"),
        (_z(launch - timedelta(hours=1)), "1"),
    ]
    other = await api.partner()
    r = await api.client.get(f"/api/v1/drops/{drop['id']}/stats.csv", headers=other.headers)
    assert r.status_code == 403 and r.json()["code"] == "not_owner"
    assert (await api.client.get(f"/api/v1/drops/{drop['id']}/stats.csv")).status_code == 401


async def test_a_thousand_reminders_in_the_csv_are_written_without_separators(api: Api) -> None:
    """Numbers are plain digits whatever the page's language (here a French browser)."""
    brand = await api.partner()
    drop = await api.create_drop(brand, in_=timedelta(hours=2), tag="CaféNoir")
    r = await api.client.get(
        f"/console/drops/{drop['id']}/stats.csv",
        headers={**brand.headers, "Cookie": "dropbell_lang=fr"},
    )
    assert r.status_code == 200, r.text
    assert "filename*=UTF-8''drop-" in r.headers["content-disposition"]
    assert "caf%C3%A9noir" in r.headers["content-disposition"]  # the tag, kept whole
    assert f'filename="drop-{drop["id"]}-cafnoir-' in r.headers["content-disposition"]
    assert "held_now,0" in r.text


async def test_the_console_shows_each_drops_figures_and_its_charts(
    api: Api, scheduler: Scheduler
) -> None:
    brand, drop, _people = await _known_drop(api, scheduler)
    await api.create_drop(brand, in_=timedelta(days=1), title="Second drop")
    page = await api.client.get("/console", headers=brand.headers)
    assert page.status_code == 200
    figures = page.text.split('class="console-figures"')
    assert len(figures) == 3  # one block per drop
    assert "<dt>Reminded</dt><dd>5</dd>" in page.text and "<dt>Told</dt><dd>4</dd>" in page.text
    assert "<dt>Reminded</dt><dd>0</dd>" in page.text  # the second drop
    page = await api.client.get(f"/console/drops/{drop['id']}", headers=brand.headers)
    assert page.status_code == 200
    html = page.text
    assert html.count('role="img"') == 3  # the funnel, the hours, the sources
    assert '<title id="hours-title">New reminders per hour before launch</title>' in html
    assert "5 new reminders from 5 hours before to Launch" in html
    assert f'href="/console/drops/{drop["id"]}/stats.csv" download' in html
    arabic = await api.client.get(
        f"/console/drops/{drop['id']}", headers={**brand.headers, "Cookie": "dropbell_lang=ar"}
    )
    assert '<html lang="ar" dir="rtl">' in arabic.text and 'role="img"' in arabic.text
    # Right to left, time runs right to left: the earliest hour's column is at the right.
    first, mirrored = _columns(html)[0], _columns(arabic.text)[0]
    assert first[0] < 20 and mirrored[0] + mirrored[1] > 300


def _columns(html: str) -> list[tuple[float, float]]:
    """(x, width) of the reminders chart's columns."""
    found = re.findall(r'<rect class="chart-col" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', html)
    return [(float(x), float(w)) for x, w in found]
