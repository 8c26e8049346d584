"""What every page handler starts from: who is asking, the session, the clock and the
settings, in one dependency, and rendering with them.

A ``PageContext`` is a request ``Context`` (``dropbell.context``) with the request and the
viewer added, so a handler takes ``ctx: Ctx``, passes ``ctx`` to a service (or, for what a
page shows, to one function of ``pagedata``) and answers with
``await ctx.page(...)`` (a full page, with the unread badge in the layout) or
``ctx.render(...)`` (a fragment, or a page shown without the badge).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from dropbell import i18n
from dropbell.accounts.deps import Session, WebViewer
from dropbell.accounts.service import Viewer
from dropbell.context import Context
from dropbell.deps import AppClock, AppSettings
from dropbell.notifications import service as notifications
from dropbell.web.render import render, request_locale
from dropbell.web.routing import LoginRequired


@dataclass(frozen=True, slots=True)
class PageContext(Context):
    request: Request
    viewer: Viewer | None = None

    def need(self) -> Viewer:
        """The logged-in shopper; anyone else is sent to the log-in page (and back)."""
        if self.viewer is None:
            raise LoginRequired()
        return self.viewer

    def render(
        self,
        name: str,
        context: dict[str, Any],
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        unread: int = 0,
    ) -> HTMLResponse:
        return render(
            self.request,
            name,
            context,
            viewer=self.viewer,
            settings=self.settings,
            now=self.clock.now(),
            unread=unread,
            status_code=status_code,
            headers=headers,
        )

    async def page(
        self,
        name: str,
        context: dict[str, Any],
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        """A full page, with the viewer's unread notifications counted in its badge."""
        viewer = self.viewer
        unread = await notifications.unread_count(self.session, viewer.account.id) if viewer else 0
        return self.render(name, context, status_code=status_code, headers=headers, unread=unread)


# From the request's dependencies themselves, not ``accounts.deps.Ctx``: a page builds one
# context, not two.
async def page_context(
    request: Request, viewer: WebViewer, session: Session, clock: AppClock, settings: AppSettings
) -> PageContext:
    # The texts the handler and pagedata make (a form's error, a funnel's labels) speak the
    # page's language too; render() picks the same one.
    i18n.set_for_request(request_locale(request, viewer))
    return PageContext(session, clock, settings, request, viewer)


async def guest_context(
    request: Request, session: Session, clock: AppClock, settings: AppSettings
) -> PageContext:
    """For the sign-up and log-in forms' POSTs: nobody is looked up (the viewer is None)."""
    i18n.set_for_request(request_locale(request, None))
    return PageContext(session, clock, settings, request)


Ctx = Annotated[PageContext, Depends(page_context)]
GuestCtx = Annotated[PageContext, Depends(guest_context)]
