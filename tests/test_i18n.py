"""The web app in English, Arabic, French and Spanish: which language a page speaks (the
switcher, the account, the browser), right to left for Arabic, plurals, dates and prices
per language, notifications in the recipient's language, and complete catalogs."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from dropbell import i18n
from dropbell.config import Settings
from dropbell.reminders.scheduler import Scheduler
from dropbell.web import render
from tests.helpers import Api, User

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Everyone may remind, whatever their language (the rollout is not what is tested)."""
    everyone = {"rollout_platforms": "*", "rollout_countries": "*", "rollout_languages": "*"}
    return Settings(**{**settings.model_dump(), **everyone})


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


async def _web_login(api: Api, user: User) -> None:
    page = await api.client.get("/login")
    r = await api.client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": _csrf(page)}
    )
    assert r.status_code == 303, r.text


def _html_tag(page: httpx.Response) -> str:
    found = re.search(r"<html[^>]*>", page.text)
    assert found
    return found.group(0)


# -- which language -----------------------------------------------------------------


def test_the_browser_languages_are_taken_by_preference() -> None:
    assert i18n.negotiate("de-DE, fr-CA;q=0.8, en;q=0.5") == "fr"
    assert i18n.negotiate("en;q=0.2, ar-EG") == "ar"
    assert i18n.negotiate("es-419") == "es"
    assert i18n.negotiate("de, ja;q=0.9") is None
    assert i18n.negotiate("fr;q=0, es;q=0.1") == "es"
    assert i18n.negotiate(None) is None
    # the switcher's choice > the account's language > the browser's > English
    assert i18n.choose("es", "fr", "ar") == "es"
    assert i18n.choose(None, "fr", "ar") == "fr"
    assert i18n.choose(None, "de", "ar") == "ar"
    assert i18n.choose("xx", "de", "ja") == "en"


async def test_an_arabic_browser_reads_arabic_right_to_left(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand, title="حذاء الصحراء", tag="تسوق")
    headers = {"Accept-Language": "ar-SA,ar;q=0.9,en;q=0.5"}

    home = await api.client.get("/", headers=headers)
    assert home.status_code == 200
    assert _html_tag(home) == '<html lang="ar" dir="rtl">'
    assert home.headers["content-language"] == "ar"
    assert "Accept-Language" in home.headers["vary"]
    assert "<h1>الإصدارات</h1>" in home.text
    assert "تسجيل الدخول" in home.text and "Log in" not in home.text
    # what users write reads in its own direction, wherever it is shown
    assert 'dir="auto">#تسوق</a>' in home.text
    assert 'dir="auto"><a href="/drops/' in home.text

    page = await api.client.get(f"/drops/{drop['id']}", headers=headers)
    assert _html_tag(page) == '<html lang="ar" dir="rtl">'
    assert "عن هذا الإصدار" in page.text
    assert "\u200f120\xa0US$" in page.text  # the price as Arabic writes it
    assert "الثلاثاء 1 يناير 2030" in page.text  # the launch date, in Arabic
    tag = await api.client.get("/tags/تسوق", headers=headers)
    assert _html_tag(tag) == '<html lang="ar" dir="rtl">'
    assert "الإصدار وكل المنشورات عنه، الأحدث أولًا." in tag.text


async def test_an_english_browser_reads_english(api: Api) -> None:
    page = await api.client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert _html_tag(page) == '<html lang="en" dir="ltr">'
    assert "<h1>Drops</h1>" in page.text
    nothing = await api.client.get("/", headers={"Accept-Language": "de-DE"})
    assert _html_tag(nothing) == '<html lang="en" dir="ltr">'


async def test_a_french_account_reads_french_whatever_the_browser_says(api: Api) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand)
    shopper = await api.signup(language="fr", country="FR", timezone="Europe/Paris")
    await _web_login(api, shopper)

    page = await api.client.get(
        f"/drops/{drop['id']}", headers={"Accept-Language": "ar, en-US;q=0.9"}
    )
    assert _html_tag(page) == '<html lang="fr" dir="ltr">'
    assert "Me le rappeler" in page.text
    assert "120\xa0$US" in page.text  # a French price: the amount, then the currency
    assert "mar. 1 janv. 2030, 14:00 CET" in page.text  # 13:00 UTC in Paris, in French


async def test_the_switcher_changes_a_visitors_language(api: Api) -> None:
    home = await api.client.get("/", headers={"Accept-Language": "fr"})
    assert _html_tag(home) == '<html lang="fr" dir="ltr">'
    assert 'action="/language"' in home.text and '<option value="es" lang="es"' in home.text

    r = await api.client.post(
        "/language", data={"language": "es", "next": "/login", "csrf_token": _csrf(home)}
    )
    assert r.status_code == 303 and r.headers["location"] == "/login"
    page = await api.client.get("/login", headers={"Accept-Language": "fr"})
    assert _html_tag(page) == '<html lang="es" dir="ltr">'
    assert "Iniciar sesión" in page.text

    r = await api.client.post(
        "/language", data={"language": "ar", "next": "//evil.example", "csrf_token": _csrf(page)}
    )
    assert r.headers["location"] == "/"  # never an open redirect
    assert _html_tag(await api.client.get("/")) == '<html lang="ar" dir="rtl">'


async def test_the_switcher_sets_a_shoppers_account_language(api: Api) -> None:
    shopper = await api.signup(language="en")
    await _web_login(api, shopper)
    home = await api.client.get("/")
    r = await api.client.post(
        "/language", data={"language": "ar", "next": "/reminders", "csrf_token": _csrf(home)}
    )
    assert r.status_code == 303 and r.headers["location"] == "/reminders"
    me = await api.client.get("/api/v1/accounts/me", headers=shopper.headers)
    assert me.json()["language"] == "ar"  # every device, and the notifications, follow
    page = await api.client.get("/reminders", headers={"Accept-Language": "en"})
    assert _html_tag(page) == '<html lang="ar" dir="rtl">'
    assert "<h1>تذكيراتي</h1>" in page.text


# -- plurals, numbers, dates --------------------------------------------------------


async def _reminded(api: Api, count: int) -> dict:  # type: ignore[type-arg]
    brand = await api.partner()
    drop = await api.create_drop(brand)
    for _ in range(count):
        shopper = await api.signup()
        assert (await api.remind(shopper, drop["id"])).status_code == 200
    return drop


@pytest.mark.parametrize(
    ("count", "english", "arabic"),
    [
        (1, "1 reminder set", "تذكير واحد مضبوط"),
        (2, "2 reminders set", "تذكيران مضبوطان"),
        (3, "3 reminders set", "3 تذكيرات مضبوطة"),
        (11, "11 reminders set", "11 تذكيرًا مضبوطًا"),
    ],
)
async def test_reminder_counts_are_plural_as_each_language_says(
    api: Api, count: int, english: str, arabic: str
) -> None:
    drop = await _reminded(api, count)
    page = await api.client.get(f"/drops/{drop['id']}", headers={"Accept-Language": "en"})
    assert f'<span class="muted">{english}</span>' in page.text
    page = await api.client.get(f"/drops/{drop['id']}", headers={"Accept-Language": "ar"})
    assert f'<span class="muted">{arabic}</span>' in page.text


def test_leads_and_prices_in_each_language() -> None:
    with i18n.use("en"):
        assert render.lead_text(3600) == "1 hour" and render.lead_text(7200) == "2 hours"
        assert render.leads_phrase([900, 86400]) == "1 day and 15 minutes before, and at launch"
        assert render.money("129", "USD") == "$129" and render.money("9.5", "EUR") == "€9.50"
    with i18n.use("ar"):
        assert [render.lead_text(n * 60) for n in (1, 2, 3, 11, 100)] == [
            "دقيقة واحدة",
            "دقيقتين",
            "3 دقائق",
            "11 دقيقة",
            "100 دقيقة",
        ]
        assert render.leads_phrase([900, 3600]) == "قبل ساعة واحدة و15 دقيقة، وعند الإطلاق"
    with i18n.use("fr"):
        assert render.lead_text(86400 * 2) == "2 jours"
        assert render.money("1234.5", "EUR") == "1\u202f234,50\xa0€"
    with i18n.use("es"):
        assert render.starts_in(86400) == "empieza mañana"
        assert render.money("1234", "USD") == "1.234\xa0US$"


# -- notifications in the recipient's language ---------------------------------------


async def test_notices_read_in_the_shoppers_language(api: Api, scheduler: Scheduler) -> None:
    brand = await api.partner()
    drop = await api.create_drop(brand, title="Union J4")
    shopper = await api.signup(language="ar")
    assert (await api.remind(shopper, drop["id"])).status_code == 200
    api.clock.set(datetime.fromisoformat(drop["launch_at"]) - timedelta(minutes=15))
    await scheduler.run_due()
    api.clock.advance(timedelta(minutes=15))
    await scheduler.run_due()

    await _web_login(api, shopper)
    page = await api.client.get("/notifications", headers={"Accept-Language": "en"})
    assert '<strong dir="auto">Union J4</strong> يبدأ بعد 15 دقيقة. استعد!' in page.text
    assert '<strong dir="auto">Union J4</strong> متاح الآن. تسوّقه قبل أن ينفد.' in page.text


# -- the catalogs -------------------------------------------------------------------


def _source_messages() -> dict[str, object]:
    """Every text the code and templates mark, extracted now (babel.cfg's method map)."""
    method_map = [
        ("src/dropbell/**.py", "python"),
        ("src/dropbell/web/templates/**.html", "jinja2"),
    ]
    options = {"src/dropbell/web/templates/**.html": {"trimmed": "true"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found: dict[str, object] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options, keywords=keywords
    ):
        key = message[0] if isinstance(message, tuple) else message
        found[key] = message
    return found


def test_babel_cfg_says_what_the_test_extracts() -> None:
    config = (ROOT / "babel.cfg").read_text()
    assert "[python: src/dropbell/**.py]" in config
    assert "[jinja2: src/dropbell/web/templates/**.html]" in config and "trimmed = true" in config


@pytest.mark.parametrize("locale", [code for code in i18n.LOCALES if code != i18n.DEFAULT])
def test_every_text_is_translated(locale: str) -> None:
    """No text of the app is left in English, every plural form is there, and each
    translation keeps its placeholders (docs/translations.md: how to add them)."""
    path = i18n.TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=locale)
    source = _source_messages()
    assert source, "nothing extracted"
    untranslated = []
    for key, message in source.items():
        entry = catalog.get(message)
        strings = entry.string if entry is not None else None
        forms = strings if isinstance(strings, tuple) else (strings,)
        wanted = catalog.num_plurals if isinstance(message, tuple) else 1
        if entry is None or entry.fuzzy or len(forms) != wanted or not all(forms):
            untranslated.append(key)
    assert not untranslated, f"{locale}: translate these in {path}: {untranslated}"
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert not problems, problems
    stale = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id} - set(source)
    assert not stale, f"{locale}: no longer in the code: {sorted(stale)}"


async def test_error_pages_speak_the_visitors_language(api: Api) -> None:
    """A browser's error page (an unknown path, a wrong id) is in its language."""
    page = await api.client.get("/nope", headers={"Accept": "text/html", "Accept-Language": "ar"})
    assert page.status_code == 404
    assert _html_tag(page) == '<html lang="ar" dir="rtl">'
    assert "<h1>غير موجود</h1>" in page.text
    assert "لم نجد هذه الصفحة. تحقّق من الرابط، أو عُد إلى الإصدارات." in page.text
    page = await api.client.get(
        "/drops/abc", headers={"Accept": "text/html", "Accept-Language": "es-MX"}
    )
    assert page.status_code == 404 and "<h1>No encontrado</h1>" in page.text
    page = await api.client.get("/nope", headers={"Accept": "text/html", "Accept-Language": "en"})
    assert "<h1>Not found</h1>" in page.text


async def test_a_forms_errors_are_in_the_pages_language(api: Api) -> None:
    """What is wrong with a field is said in the page's language (the service's own
    sentences, a rule of its own, stay English for now: docs/translations.md)."""
    ar = {"Accept-Language": "ar"}
    page = await api.client.get("/signup", headers=ar)
    form = {"username": "", "password": "x", "country": "SA", "language": "ar"}
    form |= {"timezone": "Asia/Riyadh", "csrf_token": _csrf(page)}
    r = await api.client.post("/signup", data=form, headers=ar)
    assert r.status_code == 422
    assert _html_tag(r) == '<html lang="ar" dir="rtl">'
    errors = re.findall(r'<p class="error" id="e-\w+">([^<]*)</p>', r.text)
    assert "يحتاج حقل «كلمة المرور» إلى 8 أحرف على الأقل." in errors, errors
    assert any(e.startswith("اختر اسم مستخدم من 3 إلى 30") for e in errors), errors
    r = await api.client.post("/signup", data=form, headers={"Accept-Language": "en"})
    assert "The password needs at least 8 characters." in r.text


async def test_a_services_sentence_is_translated_when_the_catalogs_have_it(api: Api) -> None:
    shopper = await api.signup(language="ar")
    await _web_login(api, shopper)
    page = await api.client.get("/compose")
    r = await api.client.post("/compose", data={"text": "  ", "csrf_token": _csrf(page)})
    assert r.status_code == 422 and _html_tag(r) == '<html lang="ar" dir="rtl">'
    assert '<p class="error" id="e-text">يحتاج المنشور إلى نص.</p>' in r.text


async def test_a_sentence_with_a_value_keeps_the_value_in_any_language(api: Api) -> None:
    brand = await api.partner(domains=("shop.example", "boutique.example"))
    await _web_login(api, brand)
    page = await api.client.get("/console/drops/new")
    r = await api.client.post(
        "/language", data={"language": "fr", "next": "/console", "csrf_token": _csrf(page)}
    )
    assert r.status_code == 303
    page = await api.client.get("/console/drops/new")
    form = {
        "title": "Sac",
        "launch_at": (api.clock.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "shop_url": "https://elsewhere.example/sac",
        "tag": "sacvalue",
        "csrf_token": _csrf(page),
    }
    r = await api.client.post("/console/drops/new", data=form)
    assert r.status_code == 422 and _html_tag(r) == '<html lang="fr" dir="ltr">'
    errors = re.findall(r'<p class="error" id="e-shop_url">([^<]*)</p>', r.text)
    assert errors == [
        "Le lien de la boutique doit être sur l&#39;un de vos domaines de boutique"
        " (boutique.example, shop.example)."
    ], errors


async def test_the_country_menu_is_in_the_pages_language(api: Api) -> None:
    page = await api.client.get("/signup", headers={"Accept-Language": "ar-SA"})
    assert '<option value="SA" selected>المملكة العربية السعودية</option>' in page.text
    page = await api.client.get("/signup", headers={"Accept-Language": "fr-FR"})
    assert '<option value="DE" >Allemagne</option>' in page.text
    page = await api.client.get("/signup", headers={"Accept-Language": "en-US"})
    assert '<option value="US" selected>United States</option>' in page.text


async def test_the_signup_form_starts_in_the_devices_time_zone(api: Api) -> None:
    api.client.cookies.set("dropbell_tz", "Asia/Tokyo")
    page = await api.client.get("/signup")
    assert '<option value="Asia/Tokyo" selected>' in page.text
    api.client.cookies.set("dropbell_tz", "Not/AZone")
    page = await api.client.get("/signup")
    assert '<option value="UTC" selected>' in page.text
    assert '<option value="Asia/Tokyo" selected>' not in page.text


async def test_the_calendar_file_speaks_the_browsers_language(api: Api) -> None:
    brand = await api.partner("maison")
    drop = await api.create_drop(brand, title="Le Sac")
    path = f"/api/v1/drops/{drop['id']}/calendar.ics"
    french = (await api.client.get(path, headers={"Accept-Language": "fr-FR"})).text
    assert "SUMMARY:Le Sac — drop de maison" in french
    assert "Le Sac sort bientôt" in french
    english = (await api.client.get(path)).text
    assert "SUMMARY:Le Sac — maison drop" in english and "Le Sac launches soon" in english
