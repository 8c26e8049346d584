"""Types shared by every domain: columns, ids in paths, and text fields."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator
from sqlalchemy import BigInteger, Integer

# BIGINT on PostgreSQL; on SQLite an INTEGER PRIMARY KEY is the rowid (autoincrement).
BigId = BigInteger().with_variant(Integer(), "sqlite")

MAX_ID = 2**63 - 1

# An id in a URL path: anything else (0, negative, past 64 bits) is a 422, never a 500.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="An id.")]


# Text fields. A NUL byte is refused by PostgreSQL (a 500 before), an unpaired surrogate
# cannot be encoded at all, and the other control characters (escape, backspace, C1
# codes) only ever hide or garble what people read. Multi-line fields (a drop's
# description, a post) keep their line breaks and tabs.
LINE_BREAKS = frozenset("\n\r\t")


def control_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` is refused as text (None: it is fine)."""
    for ch in value:
        kind = unicodedata.category(ch)
        if kind == "Cs":
            return "text must be valid Unicode (no unpaired surrogates)"
        if kind == "Cc" and not (multiline and ch in LINE_BREAKS):
            if multiline:
                return "control characters are not allowed (line breaks and tabs are)"
            return "control characters (NUL, line breaks, tabs, escape) are not allowed"
    return None


def _one_line(value: str) -> str:
    problem = control_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _multi_line(value: str) -> str:
    problem = control_problem(value, multiline=True)
    if problem is not None:
        raise ValueError(problem)
    return value


# A one-line text field: no control characters at all. Add Field(...) for lengths.
OneLine = Annotated[str, AfterValidator(_one_line)]
# A multi-line text field: newlines, carriage returns and tabs, no other control characters.
MultiLine = Annotated[str, AfterValidator(_multi_line)]
