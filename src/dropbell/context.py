"""The request context: the session, clock and settings a unit of work runs with.

A request builds one (``accounts.deps.Ctx``; a web page's ``web.context.PageContext``
is one, with the request and viewer added) from the session its dependency owns
(committed after the endpoint returns, side effects after the commit), the clock and
the settings the app was built with. Code with no request (the live hub, the push
worker and CLI, the demo loader) builds one itself around the session it opened.
Services that need two or three of these take a ``Context``; a helper that needs only
the settings (a URL, a limit) still takes just that.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from dropbell.clock import Clock
from dropbell.config import Settings


@dataclass(frozen=True, slots=True)
class Context:
    session: AsyncSession
    clock: Clock
    settings: Settings
