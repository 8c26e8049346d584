"""Hashtags: what counts as one, and the normal form they are stored and matched in."""

from __future__ import annotations

import re
import unicodedata

import idna

from dropbell.confusables import ZWJ, ZWNJ, is_invisible

MAX_TAG_LENGTH = 100
# Unicode letters, digits (and the marks that join letters in many scripts) and '_'.
_TAG_BODY = r"[^\W][\w\u0300-\u036f\u0900-\u0dff\u0e00-\u0eff\u200c\u200d]*"
_TAG_RE = re.compile(rf"^{_TAG_BODY}$")
_IN_TEXT_RE = re.compile(rf"(?<![\w#&])#({_TAG_BODY})")


def normalise_tag(raw: str) -> str:
    """NFKC, case-folded; raises ValueError for something that is not a hashtag."""
    tag = unicodedata.normalize("NFKC", raw.strip().removeprefix("#")).casefold()
    if not tag or len(tag) > MAX_TAG_LENGTH or not _TAG_RE.fullmatch(tag):
        raise ValueError("a hashtag is letters, digits and _ (no spaces or punctuation)")
    if tag.isdigit():
        raise ValueError("a hashtag needs at least one letter")
    if any(is_invisible(ch) and not _joins(tag, i) for i, ch in enumerate(tag)):
        raise ValueError("a hashtag cannot contain invisible characters")
    return tag


def _joins(tag: str, pos: int) -> bool:
    """A zero-width (non-)joiner where a script needs it (after a virama, or between
    joining Arabic letters): the CONTEXTJ rules of IDNA2008 (RFC 5892 Appendix A)."""
    if tag[pos] not in (ZWJ, ZWNJ):
        return False
    try:
        return idna.core.valid_contextj(tag, pos)
    except (ValueError, idna.IDNAError):
        return False


def parse_tags(text: str) -> list[str]:
    """The distinct normalised hashtags in ``text``, in order of first appearance."""
    seen: dict[str, None] = {}
    for match in _IN_TEXT_RE.finditer(unicodedata.normalize("NFKC", text)):
        try:
            seen.setdefault(normalise_tag(match.group(1)), None)
        except ValueError:
            continue
    return list(seen)


def tag_spans(text: str) -> list[tuple[int, int, str]]:
    """Each hashtag in ``text`` as written: (start, end, normal form); ``start`` is at the ``#``.

    For rendering: the same rule as :func:`parse_tags`, applied to the text as it is stored.
    """
    spans = []
    for match in _IN_TEXT_RE.finditer(text):
        try:
            tag = normalise_tag(match.group(1))
        except ValueError:
            continue
        spans.append((match.start(), match.end(), tag))
    return spans
