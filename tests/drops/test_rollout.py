"""Who gets Remind me (docs/operations.md, "Who gets Remind me"): everyone by default, and
``DROPBELL_ROLLOUT_PERCENT`` a stable share of accounts: the same account is always in or
out, 0 % is nobody, 100 % everybody, and about p % of many."""

from __future__ import annotations

import pytest

from dropbell.config import Settings
from dropbell.drops.rollout import in_share
from tests.helpers import Api

pytestmark = pytest.mark.anyio


def test_the_defaults_let_everyone_in(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PLATFORMS", "COUNTRIES", "LANGUAGES", "PERCENT"):
        monkeypatch.delenv(f"DROPBELL_ROLLOUT_{name}", raising=False)
    settings = Settings()
    assert (settings.rollout_platforms, settings.rollout_countries) == ("*", "*")
    assert settings.rollout_languages == "*"
    assert settings.rollout_percent == 100


def test_the_share_is_stable_and_about_the_percentage() -> None:
    ids = range(1, 20_001)
    assert not any(in_share(i, 0) for i in ids)
    assert all(in_share(i, 100) for i in ids)
    for percent in (1, 20, 50, 90):
        share = sum(in_share(i, percent) for i in ids) / len(ids)
        assert abs(share - percent / 100) < 0.02, (percent, share)
    # The same account always gets the same answer, and raising the percentage only adds.
    assert [in_share(i, 30) for i in ids] == [in_share(i, 30) for i in ids]
    assert all(in_share(i, 60) for i in ids if in_share(i, 30))


def _everyone(api: Api, percent: int) -> None:
    settings = api.app.state.settings
    settings.rollout_platforms = settings.rollout_countries = settings.rollout_languages = "*"
    settings.rollout_percent = percent
    settings.__dict__.pop("rollout", None)


async def test_with_the_defaults_a_web_shopper_anywhere_can_remind(api: Api) -> None:
    _everyone(api, 100)
    brand = await api.partner()
    drop = await api.create_drop(brand)
    shopper = await api.signup(platform="web", country="GB", language="fr")
    seen = (await api.client.get(f"/api/v1/drops/{drop['id']}", headers=shopper.headers)).json()
    assert seen["remindable"] is True
    r = await api.remind(shopper, drop["id"])
    assert r.status_code == 200 and r.json()["reminded"] is True


async def test_at_zero_percent_nobody_can_remind(api: Api) -> None:
    _everyone(api, 0)
    brand = await api.partner()
    drop = await api.create_drop(brand)
    shopper = await api.signup(platform="ios")
    r = await api.remind(shopper, drop["id"])
    assert r.status_code == 403 and r.json()["code"] == "not_eligible"


async def test_a_share_lets_the_same_accounts_in_every_time(api: Api) -> None:
    _everyone(api, 50)
    brand = await api.partner()
    drop = await api.create_drop(brand)
    shoppers = [await api.signup(platform="web") for _ in range(16)]
    answers = {}
    for shopper in shoppers:
        seen = await api.client.get(f"/api/v1/drops/{drop['id']}", headers=shopper.headers)
        answers[shopper.id] = seen.json()["remindable"]
        assert answers[shopper.id] is in_share(shopper.id, 50)
    assert set(answers.values()) == {True, False}  # 16 accounts: both kinds, by the hash
    for shopper in shoppers:  # asked again, by Remind me itself: the same answer
        r = await api.remind(shopper, drop["id"])
        assert r.status_code == (200 if answers[shopper.id] else 403), r.text
