"""Who may see Remind me: the rollout rules (platform, country, language)."""

from __future__ import annotations

from dropbell.accounts.service import Caller, Viewer
from dropbell.config import Settings

WILDCARD = "*"


def is_eligible(settings: Settings, who: Viewer | Caller | None) -> bool:
    """True when the caller's client platform, country and language are all rolled out."""
    return who is not None and ineligible_reason(settings, who) is None


def ineligible_reason(settings: Settings, who: Viewer | Caller | None) -> str | None:
    """A short, human reason why Remind me is not offered (None when it is)."""
    if who is None:
        return "Log in to set a reminder."
    caller = who.caller if isinstance(who, Viewer) else who
    platforms, countries, languages = settings.rollout  # lower, upper, lower case
    if not _admits(platforms, caller.platform.lower()):
        return f"Remind me is not yet available on {caller.platform}."
    if not _admits(countries, caller.country.upper()):
        return f"Remind me is not yet available in your country ({caller.country})."
    if not _admits(languages, caller.language.lower()):
        return f"Remind me is not yet available in your language ({caller.language})."
    return None


def _admits(allowed: frozenset[str], value: str) -> bool:
    return WILDCARD in allowed or value in allowed
