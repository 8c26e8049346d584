"""A rate-limit rule: N hits per SECONDS."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    limit: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rule | None:
        text = text.strip().lower()
        if text in ("", "off", "0"):
            return None
        count, _, seconds = text.partition("/")
        rule = cls(int(count), int(seconds or 60))
        if rule.limit < 1 or rule.seconds < 1:
            raise ValueError(f"rate limit {text!r}: use N/SECONDS with N, SECONDS >= 1, or off")
        return rule
