"""``max_id``/``limit`` keyset pagination with a ``Link: <...>; rel="next"`` header."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar
from urllib.parse import quote

from fastapi import Depends, Query, Request, Response

from dropbell.types import MAX_ID

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    limit: int
    max_id: int | None

    def trim(self, rows: Sequence[T]) -> tuple[list[T], bool]:
        """Rows were fetched with ``limit + 1``; return the page and whether more exist."""
        return list(rows[: self.limit]), len(rows) > self.limit


async def page_params(
    limit: Annotated[int, Query(ge=1, le=80, description="At most 80.")] = 20,
    max_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only items with a smaller id.")
    ] = None,
) -> Page:
    return Page(limit=limit, max_id=max_id)


PageParams = Annotated[Page, Depends(page_params)]


def set_next_link(request: Request, response: Response, last_id: int | None, more: bool) -> None:
    """The next page's absolute URL, on ``DROPBELL_PUBLIC_URL``: never the request's
    ``Host`` header, which anyone can forge."""
    if more and last_id is not None:
        base = request.app.state.settings.public_url.rstrip("/")
        query = request.url.include_query_params(max_id=last_id).query
        path = quote(request.url.path)  # a tag's page: /tags/スニーカー as ASCII
        response.headers["Link"] = f'<{base}{path}?{query}>; rel="next"'
