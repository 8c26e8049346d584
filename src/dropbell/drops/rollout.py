"""Who may see Remind me: the rollout rules (platform, country, language)."""

from __future__ import annotations

from dropbell.accounts.service import Viewer
from dropbell.config import Settings

WILDCARD = "*"


def is_eligible(settings: Settings, viewer: Viewer | None) -> bool:
    """True when the viewer's client platform, country and language are all rolled out."""
    if viewer is None:
        return False
    platforms, countries, languages = settings.rollout
    return (
        _admits(platforms, viewer.platform.lower())
        and _admits(countries, viewer.account.country.upper())
        and _admits(languages, viewer.account.language.lower())
    )


def ineligible_reason(settings: Settings, viewer: Viewer | None) -> str | None:
    """A short, human reason why Remind me is not offered (None when it is)."""
    if viewer is None:
        return "Log in to set a reminder."
    platforms, countries, languages = settings.rollout
    if not _admits(platforms, viewer.platform.lower()):
        return f"Remind me is not yet available on {viewer.platform}."
    if not _admits(countries, viewer.account.country.upper()):
        return f"Remind me is not yet available in your country ({viewer.account.country})."
    if not _admits(languages, viewer.account.language.lower()):
        return f"Remind me is not yet available in your language ({viewer.account.language})."
    return None


def _admits(allowed: frozenset[str], value: str) -> bool:
    return WILDCARD in allowed or value in {a.lower() for a in allowed} | {
        a.upper() for a in allowed
    }
