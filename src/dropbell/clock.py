"""The only way code asks "what time is it?". Always aware UTC.

Production uses :class:`SystemClock`; tests (and the browser journeys, through
the ``/_test/clock`` hook) use :class:`FakeClock` and move it by hand, so no
test ever sleeps waiting for a reminder.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep_until(self, when: datetime, *, at_most: float) -> None:
        """Wait until ``when`` (or ``at_most`` seconds, whichever is sooner)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime, *, at_most: float) -> None:
        delay = (when - self.now()).total_seconds()
        await asyncio.sleep(max(0.0, min(delay, at_most)))


class FakeClock:
    """A clock that only moves when told to. ``set``/``advance`` wake sleepers."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
        self._moved = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = when.astimezone(UTC)
        self._moved.set()
        self._moved = asyncio.Event()

    def advance(self, delta: timedelta | float) -> None:
        seconds = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        self.set(self._now + seconds)

    async def sleep_until(self, when: datetime, *, at_most: float) -> None:
        # Real time still passes for the poll, so work written by another
        # process is noticed; a move of the fake clock wakes us at once.
        if self._now >= when:
            return
        moved = self._moved
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(moved.wait(), timeout=at_most)


def utcnow_aware(value: datetime) -> datetime:
    """Return ``value`` in UTC; refuses naive datetimes."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC)
