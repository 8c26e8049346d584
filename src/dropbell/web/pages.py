"""Server-rendered pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from dropbell.accounts.deps import Session
from dropbell.deps import AppClock, AppSettings
from dropbell.drops import service as drops
from dropbell.pagination import Page

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def home(
    request: Request, session: Session, clock: AppClock, settings: AppSettings
) -> HTMLResponse:
    rows = await drops.list_drops(session, clock, "all", Page(limit=80, max_id=None))
    shown = await drops.present(session, clock, settings, rows, None)
    return templates.TemplateResponse(request, "home.html", {"drops": shown})
