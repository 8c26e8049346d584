"""Regional drops: a drop may be sold only in some countries (``drops.countries``).

Outside them the drop is an ordinary post (seen, liked, shared), but Remind me is not
offered: the rollout's check (``drops.rollout``) asks :func:`sold_in` too, and Remind me's
statement carries the same test in SQL (:func:`sold_in_clause`), so a refused caller
never gets a row, on PostgreSQL where the statement commits by itself either.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from babel.lists import format_list
from sqlalchemy import ColumnElement, bindparam, literal, or_

from dropbell import i18n
from dropbell.i18n import _
from dropbell.web.locale import countries as named

# English names that read with "the" inside a sentence ("sold only in the United States").
_WITH_THE = frozenset({"AE", "BS", "CD", "CF", "CZ", "DO", "GB", "GM", "KY", "NL", "PH", "US"})


def stored(codes: Sequence[str] | None) -> str | None:
    """The column's form of a list of (valid, upper-case) codes: sorted, unique, joined."""
    if codes is None:
        return None
    return ",".join(sorted(set(codes)))


def parse(value: str | None) -> list[str] | None:
    return value.split(",") if value else None


def sold_in(countries: str | None, country: str) -> bool:
    """Whether a drop limited to ``countries`` (the column's form; None: everywhere) is
    sold in ``country``."""
    return countries is None or country.upper() in countries.split(",")


def sold_in_clause(column: ColumnElement[str | None]) -> ColumnElement[bool]:
    """:func:`sold_in` in SQL, for the caller's country bound as ``p_country_like``
    (:func:`country_like`)."""
    wrapped = literal(",") + column + literal(",")
    return or_(column.is_(None), wrapped.like(bindparam("p_country_like")))


def country_like(country: str) -> str:
    """The LIKE pattern :func:`sold_in_clause` matches a country with (codes are letters)."""
    return f"%,{country.upper()},%"


def names(codes: Iterable[str]) -> str:
    """The countries in a phrase of the page's language, in its alphabetical order:
    "Saudi Arabia and the United Arab Emirates"."""
    shown = named(codes)
    locale = i18n.current()
    if locale != i18n.DEFAULT:
        return format_list([name for _, name in shown], locale=locale)
    words = [f"the {name}" if code in _WITH_THE else name for code, name in shown]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def where_sold(codes: Iterable[str] | None) -> str | None:
    """What the drop page says of where it is sold (None: everywhere)."""
    if not codes:
        return None
    return _("Sold only in %(countries)s.") % {"countries": names(codes)}


def not_sold_here(codes: Iterable[str]) -> str:
    """Why Remind me is not offered to a shopper outside the drop's countries."""
    return _("This drop is sold only in %(countries)s.") % {"countries": names(codes)}
