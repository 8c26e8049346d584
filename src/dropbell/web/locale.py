"""Names for the sign-up and profile menus, and a first guess from the browser's languages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from zoneinfo import available_timezones

import icu
from babel import Locale

from dropbell import i18n

COUNTRY_NAMES = {
    "AR": "Argentina", "AT": "Austria", "AU": "Australia", "BE": "Belgium", "BR": "Brazil",
    "CA": "Canada", "CH": "Switzerland", "CL": "Chile", "CN": "China", "CO": "Colombia",
    "CZ": "Czechia", "DE": "Germany", "DK": "Denmark", "EG": "Egypt", "ES": "Spain",
    "FI": "Finland", "FR": "France", "GB": "United Kingdom", "GR": "Greece", "HK": "Hong Kong",
    "IE": "Ireland", "IL": "Israel", "IN": "India", "ID": "Indonesia", "IT": "Italy",
    "JP": "Japan", "KR": "South Korea", "MX": "Mexico", "MY": "Malaysia", "NG": "Nigeria",
    "NL": "Netherlands", "NO": "Norway", "NZ": "New Zealand", "PH": "Philippines",
    "PL": "Poland", "PT": "Portugal", "RO": "Romania", "SA": "Saudi Arabia", "SE": "Sweden",
    "SG": "Singapore", "TH": "Thailand", "TR": "Türkiye", "TW": "Taiwan", "UA": "Ukraine",
    "AE": "United Arab Emirates", "US": "United States", "VN": "Vietnam", "ZA": "South Africa",
}  # fmt: skip

LANGUAGE_NAMES = {
    "ar": "العربية (Arabic)", "cs": "Čeština", "da": "Dansk", "de": "Deutsch",
    "el": "Ελληνικά (Greek)", "en": "English", "es": "Español", "fi": "Suomi",
    "fr": "Français", "he": "עברית (Hebrew)", "hi": "हिन्दी (Hindi)", "id": "Bahasa Indonesia",
    "it": "Italiano", "ja": "日本語 (Japanese)", "ko": "한국어 (Korean)", "nl": "Nederlands",
    "no": "Norsk", "pl": "Polski", "pt": "Português", "ro": "Română", "ru": "Русский",
    "sv": "Svenska", "th": "ไทย (Thai)", "tr": "Türkçe", "uk": "Українська", "vi": "Tiếng Việt",
    "zh": "中文 (Chinese)",
}  # fmt: skip


@dataclass(frozen=True)
class Guess:
    country: str
    language: str


def countries(codes: Iterable[str]) -> list[tuple[str, str]]:
    """Named countries first (by name), then the rest by code. In English the names above;
    in another language CLDR's (Babel), in that language's alphabetical order (ICU)."""
    codes = set(codes)
    lang = i18n.current()
    if lang == i18n.DEFAULT:
        names = COUNTRY_NAMES
        named = sorted(((c, n) for c, n in names.items() if c in codes), key=lambda x: x[1])
    else:
        names = {c: n for c, n in Locale.parse(lang).territories.items() if c in codes}
        collator = icu.Collator.createInstance(icu.Locale(lang))
        named = sorted(names.items(), key=lambda x: collator.getSortKey(x[1]))
    rest = sorted((c, c) for c in codes if c not in names)
    return named + rest


def languages(codes: Iterable[str]) -> list[tuple[str, str]]:
    named = sorted(((c, n) for c, n in LANGUAGE_NAMES.items() if c in codes), key=lambda x: x[0])
    rest = sorted((c, c) for c in codes if c not in LANGUAGE_NAMES)
    return named + rest


@cache
def timezones() -> list[str]:
    zones = {z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV"))}
    return ["UTC", *sorted(zones)]


def guess(accept_language: str | None) -> Guess:
    """``en-US,en;q=0.9`` → US, en. Falls back to US English."""
    first = (accept_language or "").split(",")[0].split(";")[0].strip()
    parts = first.replace("_", "-").split("-")
    language = parts[0].lower() if parts and len(parts[0]) == 2 else "en"
    country = parts[1].upper() if len(parts) > 1 and len(parts[1]) == 2 else "US"
    return Guess(country=country, language=language)
