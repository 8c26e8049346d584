"""Posting as a user would, through the HTTP API."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import Api, User


async def post(api: Api, user: User, text: str) -> dict[str, Any]:
    r = await api.client.post("/api/v1/posts", json={"text": text}, headers=user.headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def act(api: Api, user: User | None, post_id: int, action: str) -> httpx.Response:
    """POST /api/v1/posts/{id}/{action}: like, unlike, repost, unrepost, bookmark, ..."""
    headers = user.headers if user else {}
    return await api.client.post(f"/api/v1/posts/{post_id}/{action}", headers=headers)


async def ok(api: Api, user: User | None, post_id: int, action: str) -> dict[str, Any]:
    r = await act(api, user, post_id, action)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def get(api: Api, user: User | None, post_id: int) -> httpx.Response:
    return await api.client.get(f"/api/v1/posts/{post_id}", headers=user.headers if user else {})


async def delete(api: Api, user: User | None, post_id: int) -> httpx.Response:
    headers = user.headers if user else {}
    return await api.client.delete(f"/api/v1/posts/{post_id}", headers=headers)


async def listing(
    api: Api, path: str, user: User | None = None, **params: Any
) -> tuple[Any, str | None]:
    """One page (its JSON body) and the next page's URL from the Link header (None on the last)."""
    headers = user.headers if user else {}
    r = await api.client.get(path, headers=headers, params=params)
    assert r.status_code == 200, r.text
    return r.json(), next_link(r)


def next_link(r: httpx.Response) -> str | None:
    link: str | None = r.headers.get("link")
    if not link:
        return None
    assert link.endswith('>; rel="next"'), link
    return link[1 : link.index(">")]


async def walk(api: Api, path: str, user: User | None = None, **params: Any) -> list[Any]:
    """Follow Link headers to the end; the items of every page in order."""
    headers = user.headers if user else {}
    r = await api.client.get(path, headers=headers, params=params)
    items: list[Any] = []
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        items.extend(body["posts"] if isinstance(body, dict) else body)
        url = next_link(r)
        if url is None:
            return items
        r = await api.client.get(url, headers=headers)
