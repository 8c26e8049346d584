"""The languages dropbell speaks: its gettext catalogs, which one a request reads, and the
``_`` / ``ngettext`` every page, filter and notification text goes through.

The catalogs are ``translations/<lang>/LC_MESSAGES/messages.po`` in this package (Babel;
docs/translations.md says how to update them). They are read and compiled in memory the
first time a language is used, so there is no build step and no stale ``.mo`` file.

A request's language (``choose``): the switcher's cookie, else the account's language,
else the browser's ``Accept-Language``, else English. Code that renders text sets it
with ``use(locale)``; ``_`` reads it from a context variable, so one template
environment serves every language at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

TRANSLATIONS = Path(__file__).parent / "translations"
DEFAULT = "en"
# The languages with a catalog, in the switcher's order; each named in its own language.
LOCALES = {"en": "English", "ar": "العربية", "fr": "Français", "es": "Español"}
COOKIE = "dropbell_lang"

_current: ContextVar[str] = ContextVar("dropbell_locale", default=DEFAULT)


def supported(code: str | None) -> str | None:
    """``fr``, ``fr-CA`` or ``FR`` → ``fr`` when there is a catalog for it, else None."""
    if not code:
        return None
    base = code.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LOCALES else None


def negotiate(accept_language: str | None) -> str | None:
    """The best supported language of an ``Accept-Language`` header, by its q-values."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        code = supported(tag)
        if code and quality > 0:
            ranked.append((-quality, position, code))
    return min(ranked)[2] if ranked else None


def choose(cookie: str | None, account_language: str | None, accept_language: str | None) -> str:
    """Switcher choice > account language > browser languages > English."""
    return supported(cookie) or supported(account_language) or negotiate(accept_language) or DEFAULT


@cache
def direction(locale: str) -> str:
    """``rtl`` for Arabic, ``ltr`` for the others (from the locale's CLDR data)."""
    return "rtl" if Locale.parse(locale).text_direction == "rtl" else "ltr"


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalog of a supported language; English is the source text."""
    path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    if locale == DEFAULT or not path.exists():
        return NullTranslations()
    with path.open("rb") as f:
        catalog = read_po(f, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def current() -> str:
    return _current.get()


@contextmanager
def use(locale: str) -> Iterator[str]:
    """Speak ``locale`` in this block (a request's rendering, one recipient's push)."""
    token = _current.set(supported(locale) or DEFAULT)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def set_for_request(locale: str) -> None:
    """Speak ``locale`` for the rest of this request (its task's context ends with it)."""
    _current.set(supported(locale) or DEFAULT)


def _(message: str) -> str:
    return translations(current()).gettext(message)


gettext = _


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for ``n`` in the current language (Arabic has six)."""
    return translations(current()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a text for the catalogs where it is defined; it is translated where shown."""
    return message
