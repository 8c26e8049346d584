"""Who may see Remind me: the rollout rules (platform, country, language, a share), and
where the drop is sold (``drops.regions``)."""

from __future__ import annotations

import hashlib

from dropbell.accounts.service import Caller
from dropbell.config import Settings
from dropbell.drops import regions
from dropbell.i18n import _

WILDCARD = "*"


def is_eligible(settings: Settings, caller: Caller | None, countries: str | None = None) -> bool:
    """True when the caller's client platform, country and language are all rolled out
    (and, given a drop's ``countries``, the drop is sold in the caller's country)."""
    return caller is not None and ineligible_reason(settings, caller, countries) is None


def ineligible_reason(
    settings: Settings, caller: Caller | None, countries: str | None = None
) -> str | None:
    """A short, human reason why Remind me is not offered (None when it is), in the page's
    language. ``caller``: None for nobody logged in (a page's ``accounts.service.caller_of``).
    ``countries``: the drop's (``drops.countries``), when it is about one."""
    if caller is None:
        return _("Log in to set a reminder.")
    platforms, places, languages = settings.rollout  # lower, upper, lower case
    if not _admits(platforms, caller.platform.lower()):
        return _("Remind me is not yet available on %(platform)s.") % {"platform": caller.platform}
    if not _admits(places, caller.country.upper()):
        return _("Remind me is not yet available in your country (%(country)s).") % {
            "country": caller.country
        }
    if not _admits(languages, caller.language.lower()):
        return _("Remind me is not yet available in your language (%(language)s).") % {
            "language": caller.language
        }
    if not in_share(caller.account_id, settings.rollout_percent):
        return _(
            "Remind me is not yet available for your account; it is coming to more people soon."
        )
    if countries is not None and not regions.sold_in(countries, caller.country):
        return regions.not_sold_here(countries.split(","))
    return None


def in_share(account_id: int, percent: int) -> bool:
    """A stable share: the same accounts are in at a given percentage, and raising the
    percentage only adds accounts (a hash of the id, not the id itself: new accounts are
    spread evenly)."""
    if percent >= 100:
        return True
    digest = hashlib.sha256(f"dropbell-rollout:{account_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


def _admits(allowed: frozenset[str], value: str) -> bool:
    return WILDCARD in allowed or value in allowed
