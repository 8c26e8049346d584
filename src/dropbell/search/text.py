"""The plain form text is searched in: what a word is, and which spellings count as one.

Both sides of a search go through :func:`fold`, the text when it is written (into a
``search_text`` column) and the query when it is asked, so one Python function decides
what matches, on SQLite and PostgreSQL alike (neither needs ``unaccent`` or an ICU
tokenizer):

- NFKC, then case-folded (``Straße`` is ``strasse``, full-width ``SALE`` is ``sale``);
- accents dropped (``Café`` is ``cafe``, ``niño`` is ``nino``): the combining marks that
  are diacritics (Latin, Greek, Cyrillic, Hebrew points); the marks that spell a vowel in
  Indic scripts stay (``नमस्ते`` is one word);
- Arabic: the short vowels and other diacritics (tashkeel) and the tatweel dropped, the
  alef with hamza or madda (أ إ آ) and the wasla (ٱ) are a bare alef, the alef maksura
  (ى) is a yeh and the teh marbuta (ة) a heh, as Arabic search engines fold them
  (``قَهْوَة`` and ``قهوه`` are one word);
- digits of any script are ASCII digits (``٢٠٢٦`` is ``2026``);
- invisible formatting characters (zero-width joiners, bidi marks) dropped.

A word is a run of letters, digits and marks of the folded text (``_``, ``#`` and
punctuation separate words: ``#summer_sale`` is the words ``summer`` and ``sale``).
"""

from __future__ import annotations

import re
import unicodedata

_LETTERS = str.maketrans(
    {
        "\u0671": "\u0627",  # alef wasla → alef (أ إ آ lose their hamza or madda as marks)
        "\u0649": "\u064a",  # alef maksura → yeh
        "\u0629": "\u0647",  # teh marbuta → heh
        "\u0640": None,  # tatweel, the stretching stroke
    }
)
# The combining marks that are diacritics: dropped. Latin, Greek and Cyrillic accents;
# Hebrew points; Arabic tashkeel (harakat, tanween, shadda, sukun, the dagger alef, the
# hamza and madda signs) and Quranic marks.
_DIACRITICS = re.compile(
    "[\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670"
    "\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff"
    "\ufe20-\ufe2f]"
)
MAX_WORDS = 8  # a query's words beyond these are ignored (each one is an index lookup)


def _plain(ch: str) -> str:
    """One character of the decomposed, case-folded text, in its plain form."""
    kind = unicodedata.category(ch)
    if kind == "Cf":
        return ""
    if kind == "Nd":
        return str(unicodedata.digit(ch))
    return ch


def fold(text: str) -> str:
    """``text`` in its plain form (see the module's docstring)."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    kept = "".join(_plain(ch) for ch in _DIACRITICS.sub("", decomposed))
    return unicodedata.normalize("NFC", kept).translate(_LETTERS)


def _is_word_char(ch: str) -> bool:
    return ch != "_" and unicodedata.category(ch)[0] in "LNM"


def words(text: str) -> list[str]:
    """The words of ``text``'s plain form, in order (repeats kept)."""
    found: list[str] = []
    current: list[str] = []
    for ch in fold(text):
        if _is_word_char(ch):
            current.append(ch)
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    return found


def document(*parts: str) -> str:
    """What is stored in a ``search_text`` column: the plain words of ``parts``, one space
    between them (so every database's tokenizer splits it the same way)."""
    return " ".join(word for part in parts for word in words(part))


def query_words(q: str) -> list[str]:
    """The distinct plain words of a query, in order, at most :data:`MAX_WORDS`."""
    return list(dict.fromkeys(words(q)))[:MAX_WORDS]
