"""Test-only endpoints, mounted only when DROPBELL_TEST_HOOKS is set: move the fake clock."""

from __future__ import annotations

from datetime import UTC

from fastapi import APIRouter, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict

from dropbell import errors
from dropbell.clock import FakeClock

router = APIRouter(prefix="/_test", include_in_schema=False)


class ClockMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    now: AwareDatetime | None = None
    advance_seconds: float | None = None


@router.get("/clock")
async def get_clock(request: Request) -> dict[str, str]:
    return {"now": request.app.state.clock.now().astimezone(UTC).isoformat()}


@router.post("/clock")
async def move_clock(body: ClockMove, request: Request) -> dict[str, str]:
    clock = request.app.state.clock
    if not isinstance(clock, FakeClock):
        raise errors.Conflict("This server runs on the real clock.")
    if body.now is not None:
        clock.set(body.now)
    if body.advance_seconds is not None:
        clock.advance(body.advance_seconds)
    scheduler = getattr(request.app.state, "scheduler", None)
    if scheduler is not None:
        scheduler.wake.set()
    return {"now": clock.now().astimezone(UTC).isoformat()}
