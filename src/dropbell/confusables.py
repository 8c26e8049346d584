"""Text that looks like other text: Unicode TR39 skeletons, invisible characters, mixed scripts.

The work is ICU's (``SpoofChecker``, through PyICU), which implements TR39 and ships its
confusables data. Two strings whose skeletons are equal look alike (``\u0430urellebag`` with a
Cyrillic ``\u0430``, ``aure1lebag``, ``aurellebag``). As TR39 does since Unicode 15.1, the
skeleton leaves out default-ignorable code points (zero-width joiners, fillers), which
ICU 72 still keeps. Skeletons are stored (``drops.tag_skeleton``, the partners'
``accounts.name_skeleton`` / ``username_skeleton``), so a newer ICU whose data maps a
character differently leaves older rows with their old skeleton until they are written
again.
"""

from __future__ import annotations

import unicodedata

import icu

_IGNORABLE = icu.UnicodeSet("[:Default_Ignorable_Code_Point:]")
_SKELETONS = icu.SpoofChecker()
_SCRIPTS = icu.SpoofChecker()
_SCRIPTS.setChecks(icu.USpoofChecks.RESTRICTION_LEVEL | icu.USpoofChecks.MIXED_NUMBERS)
# One script, or Latin with Han, Hiragana and Katakana (Japanese), Han and Bopomofo or
# Han and Hangul: TR39's "highly restrictive" identifiers. Digits and '_' are any script's.
_SCRIPTS.setRestrictionLevel(icu.URestrictionLevel.HIGHLY_RESTRICTIVE)

ZWNJ, ZWJ = "\u200c", "\u200d"


def is_invisible(ch: str) -> bool:
    """A format character (category Cf: joiners, bidi controls, soft hyphen…) or another
    default-ignorable code point (fillers, variation selectors): nothing a reader sees."""
    return unicodedata.category(ch) == "Cf" or bool(_IGNORABLE.contains(ch))


def _tr39(text: str) -> str:
    kept = "".join(ch for ch in unicodedata.normalize("NFD", text) if not _IGNORABLE.contains(ch))
    return str(_SKELETONS.getSkeleton(0, kept))


def skeleton(text: str) -> str:
    """The TR39 skeleton of ``text``, blind to case: equal skeletons look alike."""
    return _tr39(_tr39(text).casefold())


def name_skeletons(text: str) -> tuple[str, str]:
    """Two skeletons of a name's letters and digits only (spaces, punctuation and symbols
    left out: ``Aurelle ✔``, ``A.urelle`` and ``aurelle_`` all look like ``Aurelle``):
    case-folded first (``AURELLE`` is ``aurelle``), and taken as written first (a capital
    ``I`` looks like ``l``: ``AureIle``). Two names look alike when they share one.
    Empty for a name with no letter or digit."""

    def letters(value: str) -> str:
        return "".join(ch for ch in value if ch.isalnum())

    folded = letters(_tr39(text.casefold()))
    cased = letters(_tr39(text))
    return (
        _tr39(folded) if folded else "",
        _tr39(cased.casefold()) if cased else "",
    )


def mixes_scripts(text: str) -> bool:
    """Whether ``text`` mixes scripts the way spoofs do (Latin with Cyrillic or Greek,
    ASCII digits with Arabic-Indic ones), by TR39's "highly restrictive" level."""
    return bool(_SCRIPTS.check(text))
