"""ISO 3166-1 alpha-2 country codes and ISO 639-1 language codes, read from ``iso-codes.txt``."""

from __future__ import annotations

from importlib import resources


def _sections(text: str) -> dict[str, frozenset[str]]:
    """``[name]`` headers, each followed by space-separated codes; ``#`` starts a comment."""
    sections: dict[str, set[str]] = {}
    current: set[str] | None = None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], set())
        elif line and current is not None:
            current.update(line.split())
    return {name: frozenset(codes) for name, codes in sections.items()}


_CODES = _sections(
    resources.files("dropbell.accounts").joinpath("iso-codes.txt").read_text("utf-8")
)
COUNTRIES = _CODES["countries"]
LANGUAGES = _CODES["languages"]
