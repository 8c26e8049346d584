"""An httpx transport on aiohttp's connection pool, for HTTP/1.1 push services.

httpx's own pool (httpcore) scans every connection for every request, which on this
machine caps a pool of 200 HTTP/1.1 connections at a few hundred requests a second
(docs/benchmarks.md); aiohttp's pool does not. Against an HTTP/2 push service
(``push_http2``, the default) the sender uses httpx's own transport, where one
connection carries the concurrent pushes as streams.
"""

from __future__ import annotations

import aiohttp
import httpx

_SKIP = {"host", "content-length", "transfer-encoding", "connection"}


class AiohttpTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, limit: int, timeout: float) -> None:
        self.limit = limit
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _get(self) -> aiohttp.ClientSession:
        if self._session is None:  # made inside the running event loop
            connector = aiohttp.TCPConnector(limit=self.limit, limit_per_host=self.limit)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self.timeout, trust_env=False, auto_decompress=False
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _SKIP}
        body = await request.aread()
        try:
            async with self._get().request(
                request.method,
                str(request.url),
                headers=headers,
                data=body,
                allow_redirects=False,
            ) as response:
                content = await response.read()
                return httpx.Response(
                    response.status,
                    headers=[
                        (k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers
                    ],
                    content=content,
                    request=request,
                )
        except TimeoutError as exc:
            raise httpx.TimeoutException("push request timed out", request=request) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise httpx.TransportError(f"{type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
