"""Issue 11, brands and data: what a brand or a shopper could pass off as someone else.

12. A drop's image must be an absolute https URL on another host than dropbell's own.
14. Drop hashtags refuse invisible characters, mixed scripts, and look-alikes of another
    drop's tag (Unicode TR39 skeletons).
15. Partners carry a verified mark nobody can fake; display names that look like a
    partner's are refused.
18. Shop domains are IDNA2008: ``straße.example`` stays itself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from dropbell.accounts import service as accounts
from dropbell.db import transaction
from tests.helpers import Api, User, iso

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery"


def _drop_body(api: Api, **fields: Any) -> dict[str, Any]:
    body = {
        "title": "Test sneaker",
        "launch_at": iso(api.clock.now() + timedelta(hours=1)),
        "shop_url": "https://shop.example/sneaker",
        "tag": "sneaker1",
    }
    return {**body, **fields}


async def _post_drop(api: Api, brand: User, **fields: Any) -> httpx.Response:
    return await api.client.post(
        "/api/v1/drops", json=_drop_body(api, **fields), headers=brand.headers
    )


async def _web_login(api: Api, username: str) -> str:
    """Log the test client's browser in; the CSRF token for its forms."""
    await api.client.get("/login")
    form = {
        "username": username,
        "password": PASSWORD,
        "csrf_token": api.client.cookies["dropbell_csrf"],
    }
    assert (await api.client.post("/login", data=form)).status_code == 303
    return api.client.cookies["dropbell_csrf"]


async def _signup(api: Api, username: str, display_name: str | None) -> httpx.Response:
    body: dict[str, Any] = {
        "username": username,
        "password": PASSWORD,
        "country": "US",
        "language": "en",
    }
    if display_name is not None:
        body["display_name"] = display_name
    return await api.client.post("/api/v1/accounts", json=body)


async def _brand(api: Api, username: str, display_name: str) -> User:
    """A partner brand with a display name of its own."""
    assert (await _signup(api, username, display_name)).status_code == 201
    async with transaction(api.app.state.sessionmaker) as session:
        await accounts.approve_partner(session, username, ["shop.example"])
    r = await api.client.post(
        "/api/v1/auth/token", json={"username": username, "password": PASSWORD, "platform": "ios"}
    )
    assert r.status_code == 200, r.text
    return User(id=r.json()["account"]["id"], username=username, token=r.json()["access_token"])


# -- 12. image_url ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "image_url",
    [
        "/drops/1/shop?source=post",  # a same-site path: every viewer's browser "clicks"
        "//dropbell.test/drops/1/shop",
        "https:/drops/1/shop",
        "https:///drops/1/shop",
        "http://cdn.example/a.png",
        "javascript:alert(1)",
        "https://dropbell.test/drops/1/shop",  # the public URL's host
        "https://DROPBELL.test./drops/1/shop",
        "https://user@cdn.example/a.png",
        "https://cdn.example\\@dropbell.test/a.png",
    ],
)
async def test_an_image_on_dropbell_itself_or_not_https_is_refused(
    api: Api, image_url: str
) -> None:
    brand = await api.partner()
    r = await _post_drop(api, brand, image_url=image_url)
    assert r.status_code == 422, r.text
    assert "image_url" in r.json()["error"]
    drop = await api.create_drop(brand)
    r = await api.client.patch(
        f"/api/v1/drops/{drop['id']}", json={"image_url": image_url}, headers=brand.headers
    )
    assert r.status_code == 422, r.text
    assert (await api.client.get(f"/api/v1/drops/{drop['id']}")).json()["image_url"] is None


async def test_an_image_on_the_host_the_request_came_to_is_refused(api: Api) -> None:
    brand = await api.partner()
    r = await api.client.post(
        "http://dropbell-alias.test/api/v1/drops",
        json=_drop_body(api, image_url="https://dropbell-alias.test/drops/1/shop"),
        headers=brand.headers,
    )
    assert r.status_code == 422 and "dropbell's own" in r.json()["error"], r.text


async def test_an_https_image_elsewhere_is_kept(api: Api) -> None:
    brand = await api.partner()
    r = await _post_drop(api, brand, image_url="https://cdn.shop.example/sneaker.png")
    assert r.status_code == 201, r.text
    assert r.json()["image_url"] == "https://cdn.shop.example/sneaker.png"
    r = await api.client.patch(
        f"/api/v1/drops/{r.json()['id']}",
        json={"image_url": "https://images.example/b.webp?w=800"},
        headers=brand.headers,
    )
    assert r.status_code == 200 and r.json()["image_url"] == "https://images.example/b.webp?w=800"


async def test_the_console_shows_the_image_error_beside_the_field(api: Api) -> None:
    brand = await api.partner()
    csrf = await _web_login(api, brand.username)
    form = {
        "title": "Sneaker",
        "launch_at": (api.clock.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "shop_url": "https://shop.example/x",
        "tag": "consoleimage",
        "image_url": "/drops/1/shop?source=post",
        "csrf_token": csrf,
    }
    page = await api.client.post("/console/drops/new", data=form)
    assert page.status_code == 422
    assert 'id="e-image_url"' in page.text and 'value="/drops/1/shop?source=post"' in page.text
    assert "full https:// address" in page.text.replace("&#39;", "'")
    form["image_url"] = "https://dropbell.test/static/x.png"
    page = await api.client.post("/console/drops/new", data=form)
    assert page.status_code == 422 and "another host than dropbell" in page.text
    assert (await api.client.get("/api/v1/drops")).json() == []


# -- 14. hashtags -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "tag",
    [
        "aurelle\u200dbag",  # zero-width joiner
        "aurelle\u200cbag",  # zero-width non-joiner
        "aurelle\u2060bag",  # word joiner
        "aurelle\u3164bag",  # Hangul filler (a "letter" nobody sees)
        "\u0430urellebag",  # a Cyrillic a among Latin letters
        "aurelle\u03bfbag",  # a Greek omicron among Latin letters
        "drop\u0661" + "2",  # Arabic-Indic and ASCII digits
    ],
)
async def test_a_drop_tag_with_invisible_characters_or_mixed_scripts_is_refused(
    api: Api, tag: str
) -> None:
    brand = await api.partner()
    r = await _post_drop(api, brand, tag=tag)
    assert r.status_code == 422, r.text
    assert "tag" in r.json()["error"]


@pytest.mark.parametrize(
    ("existing", "lookalike"),
    [
        ("aurellebag", "aure1lebag"),  # digit one for l
        ("google", "g00gle"),  # zeros for o
        ("coco", "\u0441\u043e\u0441\u043e"),  # all Cyrillic: one script, looks the same
        ("modern", "rnodern"),  # rn for m
    ],
)
async def test_a_drop_tag_that_looks_like_another_drops_is_refused(
    api: Api, existing: str, lookalike: str
) -> None:
    brand = await api.partner()
    first = await api.create_drop(brand, tag=existing)
    r = await _post_drop(api, brand, tag=lookalike)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "tag_confusable" and f"#{existing}" in r.json()["error"]
    other = await api.create_drop(brand)
    r = await api.client.patch(
        f"/api/v1/drops/{other['id']}", json={"tag": lookalike}, headers=brand.headers
    )
    assert r.status_code == 409 and r.json()["code"] == "tag_confusable", r.text
    # The drop's own tag, saved again, is not a clash with itself.
    r = await api.client.patch(
        f"/api/v1/drops/{first['id']}",
        json={"tag": existing, "title": "Again"},
        headers=brand.headers,
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "tag",
    [
        "\u0645\u0631\u062d\u0628\u0627",  # Arabic
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian, with the ZWNJ it needs
        "\u0915\u094d\u200d\u0937",  # Devanagari: virama + ZWJ
        "\u6771\u4eac\u30c9\u30ed\u30c3\u30d7",  # Japanese: Han and Katakana
        "\u10d3\u10e0\u10dd\u10de\u10d8",  # Georgian
        "\u0441\u043d\u0438\u043a\u0435\u0440\u044b2030",  # Cyrillic with ASCII digits
    ],
)
async def test_single_script_tags_still_work(api: Api, tag: str) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand, tag=tag)
    assert drop["tag"] == tag
    r = await api.client.get(f"/api/v1/tags/{tag}")
    assert r.status_code == 200, r.text


async def test_invisible_characters_make_no_tag_in_a_post(api: Api) -> None:
    shopper = await api.signup()
    r = await api.client.post(
        "/api/v1/posts", json={"text": "fake #aurelle\u200dbag"}, headers=shopper.headers
    )
    assert r.status_code == 201, r.text
    assert r.json()["tags"] == []


# -- 15. partners' names ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Maison Aurelle",
        "MAISON AURELLE",
        "maison aure1le",
        "Maison \u0410urelle",  # a Cyrillic capital A
        "Maison Aurelle \u2714",  # plus a check mark
        "Maison\u200b Aurelle",  # a zero-width space
        "maison_aurelle",  # the partner's username
        "Maison-Aurelle.",
    ],
)
async def test_a_display_name_that_looks_like_a_partners_is_refused(api: Api, name: str) -> None:
    await _brand(api, "maison_aurelle", "Maison Aurelle")
    r = await _signup(api, "copycat", name)
    assert r.status_code == 422, r.text
    assert "display_name" in r.json()["error"]


async def test_a_username_that_looks_like_a_partners_cannot_be_its_display_name(api: Api) -> None:
    await _brand(api, "maisonaurelle", "Aurelle")
    r = await _signup(api, "maisonaure1le", None)  # the display name would be the username
    assert r.status_code == 422 and "display_name" in r.json()["error"], r.text
    assert (await _signup(api, "maisonaure1le", "Maya")).status_code == 201


async def test_check_marks_are_refused_in_display_names(api: Api) -> None:
    for name in ("Maya \u2713", "\u2705 Maya", "Maya \u2611"):
        r = await _signup(api, "maya", name)
        assert r.status_code == 422 and "check marks" in r.json()["error"], r.text


async def test_other_names_are_fine_and_a_partner_keeps_its_own(api: Api) -> None:
    brand = await _brand(api, "maison_aurelle", "Maison Aurelle")
    for i, name in enumerate(
        ("Maya Chen", "Aurelle", "Maison Aurelle Fan", "\u0645\u0631\u064a\u0645")
    ):
        assert (await _signup(api, f"shopper_{i}", name)).status_code == 201
    csrf = await _web_login(api, brand.username)
    form = {
        "display_name": "Maison Aurelle",
        "country": "FR",
        "language": "fr",
        "timezone": "Europe/Paris",
        "platform": "web",
        "csrf_token": csrf,
    }
    assert (await api.client.post("/settings", data=form)).status_code == 303


async def test_the_web_sign_up_and_profile_refuse_a_partners_name(api: Api) -> None:
    await _brand(api, "maison_aurelle", "Maison Aurelle")
    await api.client.get("/signup")
    form = {
        "username": "copycat",
        "display_name": "Maison Aure1le",
        "password": PASSWORD,
        "country": "US",
        "language": "en",
        "timezone": "UTC",
        "csrf_token": api.client.cookies["dropbell_csrf"],
    }
    page = await api.client.post("/signup", data=form)
    assert page.status_code == 422
    assert "looks like Maison Aurelle, a partner brand" in page.text
    api.client.cookies.clear()

    shopper = await api.signup("maya")
    csrf = await _web_login(api, shopper.username)
    form = {
        "display_name": "MAISON AURELLE",
        "country": "US",
        "language": "en",
        "timezone": "UTC",
        "platform": "web",
        "csrf_token": csrf,
    }
    page = await api.client.post("/settings", data=form)
    assert page.status_code == 422 and "a partner brand" in page.text
    assert (await api.client.get("/api/v1/accounts/me", headers=shopper.headers)).json()[
        "display_name"
    ] == "maya"


async def test_a_partner_approved_later_is_protected_and_a_removed_one_is_not(api: Api) -> None:
    await api.signup("night_market")
    assert (await _signup(api, "copy1", "Night Market")).status_code == 201  # not a partner yet
    async with transaction(api.app.state.sessionmaker) as session:
        await accounts.approve_partner(session, "night_market", ["shop.example"])
    assert (await _signup(api, "copy2", "Night Market")).status_code == 422
    async with transaction(api.app.state.sessionmaker) as session:
        await accounts.remove_partner(session, "night_market")
    assert (await _signup(api, "copy3", "Night Market")).status_code == 201


async def test_partners_are_marked_in_the_api_and_the_web(api: Api) -> None:
    brand = await _brand(api, "maison_aurelle", "Maison Aurelle")
    drop = await api.create_drop(brand, tag="aurellebag")
    shopper = await api.signup("maya")
    r = await api.client.post(
        "/api/v1/posts", json={"text": "Want #aurellebag"}, headers=shopper.headers
    )
    assert r.status_code == 201
    assert r.json()["author"]["is_partner"] is False
    assert (await api.client.get(f"/api/v1/drops/{drop['id']}")).json()["brand"]["is_partner"]
    assert drop["brand"]["is_partner"] is True
    r = await api.remind(shopper, drop["id"])
    assert r.status_code == 200 and r.json()["brand"]["is_partner"] is True
    posts = (await api.client.get("/api/v1/timelines/public")).json()
    assert {p["author"]["username"]: p["author"]["is_partner"] for p in posts} == {
        "maya": False,
        "maison_aurelle": True,
    }

    page = (await api.client.get(f"/drops/{drop['id']}")).text
    mark = '<span class="verified" title="Verified partner brand">'
    assert page.count(mark) == 2  # the card and the facts
    assert "(verified partner brand)</span>" in page
    tag_page = (await api.client.get("/tags/aurellebag")).text
    post_html = tag_page.split('data-post-id="', 2)[1]  # the shopper's post: no mark
    assert "Maya" in post_html or "maya" in post_html
    assert mark not in post_html.split("</article>", 1)[0]


# -- 18. IDNA2008 shop domains ----------------------------------------------------------


async def test_shop_domains_keep_their_sharp_s(api: Api) -> None:
    brand = await api.partner(domains=("Straße.example",))
    async with transaction(api.app.state.sessionmaker) as session:
        account = await accounts.get_by_username(session, brand.username)
        assert account is not None
        assert [d.domain for d in account.shop_domains] == ["xn--strae-oqa.example"]
    r = await _post_drop(api, brand, shop_url="https://shop.straße.example/x", tag="sharp1")
    assert r.status_code == 201, r.text
    assert r.json()["shop_url"] == "https://shop.xn--strae-oqa.example/x"
    r = await _post_drop(api, brand, shop_url="https://strasse.example/x", tag="sharp2")
    assert r.status_code == 422 and "shop domains" in r.json()["error"], r.text


async def test_a_brand_on_strasse_cannot_link_to_strasse_with_sharp_s(api: Api) -> None:
    brand = await api.partner(domains=("strasse.example",))
    r = await _post_drop(api, brand, shop_url="https://straße.example/x", tag="sharp3")
    assert r.status_code == 422, r.text
    r = await _post_drop(api, brand, shop_url="https://STRASSE.example/x", tag="sharp4")
    assert r.status_code == 201, r.text
