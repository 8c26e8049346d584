"""App-wide dependencies: the settings and the clock the app was built with."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from dropbell.clock import Clock
from dropbell.config import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


AppSettings = Annotated[Settings, Depends(get_settings)]
AppClock = Annotated[Clock, Depends(get_clock)]
