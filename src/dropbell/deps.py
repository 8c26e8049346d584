"""App-wide dependencies: the settings and the clock the app was built with."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from dropbell.clock import Clock
from dropbell.config import Settings


# async: FastAPI runs a plain ``def`` dependency in a worker thread, a needless thread
# hop (twice per request) for returning an attribute.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


AppSettings = Annotated[Settings, Depends(get_settings)]
AppClock = Annotated[Clock, Depends(get_clock)]
