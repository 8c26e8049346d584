"""A local push service for tests and ``dropbell bench push``: real HTTP on 127.0.0.1.

It checks every push the way a real push service (RFC 8030) would, and more strictly:
the VAPID token (RFC 8292: ES256 signed with the ``k`` key, ``aud`` its own origin,
``exp`` at most 24 hours ahead, ``k`` the server key it was told to expect), the TTL,
Urgency, Topic and Content-Encoding headers, a body of at most 4096 bytes; then it
decrypts the body (RFC 8291) with the subscription's private key and records the
JSON. A request that fails a check gets a 400 and is listed in ``problems``.

Subscriptions need no registry: an endpoint is ``/push/<keys>/<token>`` and the key
pair and auth secret are derived from ``<keys>`` and the service's seed, so a separate
process (the benchmark's) derives the same keys. Answers can be scripted per token:
201 (the default), 404, 410, 413, 429 with Retry-After, 503, or slow (held until an
event is set, or for a delay). ``POST /raw`` answers 201 without looking: the
benchmark's baseline.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import socket
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import http_ece  # type: ignore[import-untyped]
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import jwt as vapid_jwt  # type: ignore[import-untyped]

from dropbell.push.keys import b64url, b64url_decode

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_URGENCIES = {"very-low", "low", "normal", "high"}


@dataclass(frozen=True)
class Keys:
    """A browser's side of a subscription: its P-256 key pair and auth secret."""

    private: ec.EllipticCurvePrivateKey = field(repr=False)
    p256dh: str
    auth: str

    @property
    def auth_secret(self) -> bytes:
        return b64url_decode(self.auth)


@lru_cache(maxsize=4096)
def derive_keys(seed: str, name: str) -> Keys:
    digest = hashlib.sha256(f"{seed}/p256/{name}".encode()).digest()
    scalar = int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1
    private = ec.derive_private_key(scalar, ec.SECP256R1())
    point = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    auth = hashlib.sha256(f"{seed}/auth/{name}".encode()).digest()[:16]
    return Keys(private, b64url(point), b64url(auth))


@dataclass(frozen=True)
class Device:
    endpoint: str
    token: str
    keys: Keys

    def as_json(self) -> dict[str, Any]:
        """The body of ``POST /api/v1/push/subscription``'s ``subscription``."""
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": self.keys.p256dh, "auth": self.keys.auth},
        }


@dataclass
class Answer:
    status: int = 201
    retry_after: str | None = None
    hold: asyncio.Event | None = None  # slow: answer once this is set
    delay: float = 0.0  # slow: answer after this many (real) seconds


@dataclass(frozen=True)
class Received:
    token: str
    payload: dict[str, Any]
    headers: dict[str, str]
    claims: dict[str, Any]
    at: datetime
    status: int


class PushServiceError(Exception):
    pass


class LocalPushService:
    def __init__(
        self,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        server_key: str | None = None,
        verify_every: int = 1,
        seed: str = "dropbell-test",
        record: bool = True,
    ) -> None:
        self.now = now
        self.server_key = server_key
        self.verify_every = verify_every  # 1: every push; N: every Nth; 0: none
        self.seed = seed
        self.record = record
        self.origin = ""
        self.received: list[Received] = []
        self.problems: list[str] = []
        self.count = 0
        self.raw_count = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._in_flight_changed = asyncio.Condition()
        self._answers: dict[str, deque[Answer]] = {}
        self._server: uvicorn.Server | None = None
        self._socket: socket.socket | None = None

    async def wait_in_flight(self, count: int) -> None:
        """Return once `count` pushes are being answered at the same time."""
        async with self._in_flight_changed:
            await self._in_flight_changed.wait_for(lambda: self.in_flight >= count)

    async def _count_in_flight(self, step: int) -> None:
        async with self._in_flight_changed:
            self.in_flight += step
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._in_flight_changed.notify_all()

    # Set-up ----------------------------------------------------------------------------

    def subscription(self, token: str, keys: str | None = None) -> Device:
        name = keys or token
        return Device(f"{self.origin}/push/{name}/{token}", token, derive_keys(self.seed, name))

    def script(self, token: str, *answers: int | Answer) -> None:
        """The next answers for ``token`` (then 201 again)."""
        queue = self._answers.setdefault(token, deque())
        queue.extend(a if isinstance(a, Answer) else Answer(a) for a in answers)

    def for_token(self, token: str) -> list[Received]:
        return [r for r in self.received if r.token == token]

    async def start(self, port: int = 0) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        self._socket = sock
        self.origin = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(
            self, lifespan="off", log_level="warning", access_log=False, backlog=4096
        )
        # Server.serve() without its signal handlers (this runs inside a test or a
        # benchmark's event loop): what serve() does before and after the main loop.
        self._server = uvicorn.Server(config)
        config.load()
        self._server.lifespan = config.lifespan_class(config)
        await self._server.startup(sockets=[sock])
        return self.origin

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.shutdown()
            self._server = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    @property
    def host_port(self) -> str:
        return self.origin.removeprefix("http://")

    # HTTP ------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        path: str = scope["path"]
        if path == "/stats":
            stats = {"count": self.count, "raw": self.raw_count, "problems": self.problems[:5]}
            await _respond(send, 200, body=json.dumps(stats).encode())
            return
        if path == "/raw":
            self.raw_count += 1
            await _respond(send, 201)
            return
        parts = path.split("/")
        if scope["method"] != "POST" or len(parts) != 4 or parts[1] != "push":
            await _respond(send, 404)
            return
        await self._count_in_flight(+1)
        try:
            status, extra = await self._push(parts[2], parts[3], scope, body)
        finally:
            await self._count_in_flight(-1)
        await _respond(send, status, extra)

    async def _push(
        self, name: str, token: str, scope: Scope, body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]]]:
        self.count += 1
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        queue = self._answers.get(token)
        answer = queue.popleft() if queue else Answer()
        check = self.verify_every and self.count % self.verify_every == 0
        if check or self.verify_every == 1:
            try:
                claims, data = self._check(name, headers, body)
            except PushServiceError as exc:
                self.problems.append(f"{token}: {exc}")
                return 400, []
            if self.record:
                when = self.now()
                self.received.append(Received(token, data, headers, claims, when, answer.status))
        if answer.hold is not None:
            await answer.hold.wait()
        if answer.delay:
            await asyncio.sleep(answer.delay)
        extra = [(b"retry-after", answer.retry_after.encode())] if answer.retry_after else []
        if answer.status == 201:
            extra.append((b"location", f"{self.origin}/message/{self.count}".encode()))
        return answer.status, extra

    def _check(
        self, name: str, headers: dict[str, str], body: bytes
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        claims = self._check_vapid(headers.get("authorization", ""))
        ttl = headers.get("ttl", "")
        if not ttl.isdigit():
            raise PushServiceError(f"TTL missing or not a number: {ttl!r}")
        if headers.get("urgency", "normal") not in _URGENCIES:
            raise PushServiceError(f"bad Urgency {headers.get('urgency')!r}")
        topic = headers.get("topic")
        if topic is not None and not _TOPIC.match(topic):
            raise PushServiceError(f"bad Topic {topic!r}")
        if headers.get("content-encoding") != "aes128gcm":
            raise PushServiceError(f"Content-Encoding {headers.get('content-encoding')!r}")
        if len(body) > 4096:
            raise PushServiceError(f"body of {len(body)} bytes is over 4096")
        keys = derive_keys(self.seed, name)
        try:
            plain = http_ece.decrypt(
                body, private_key=keys.private, auth_secret=keys.auth_secret, version="aes128gcm"
            )
            data = json.loads(plain)
        except Exception as exc:
            raise PushServiceError(f"cannot decrypt: {type(exc).__name__}: {exc}") from None
        return claims, data

    def _check_vapid(self, authorization: str) -> dict[str, Any]:
        scheme, _, rest = authorization.partition(" ")
        if scheme.lower() != "vapid":
            raise PushServiceError(f"Authorization is not vapid: {scheme!r}")
        params = dict(p.strip().split("=", 1) for p in rest.split(",") if "=" in p)
        token, key = params.get("t", ""), params.get("k", "")
        if self.server_key is not None and key != self.server_key:
            raise PushServiceError("k is not the application server key")
        try:
            header = json.loads(b64url_decode(token.split(".", 1)[0]))
            claims: dict[str, Any] = vapid_jwt.decode(token, key)
        except Exception as exc:
            raise PushServiceError(f"bad VAPID token: {type(exc).__name__}") from None
        if header.get("alg") != "ES256":
            raise PushServiceError(f"JWT alg {header.get('alg')!r}")
        if claims.get("aud") != self.origin:
            raise PushServiceError(f"aud {claims.get('aud')!r} is not {self.origin}")
        now = self.now().timestamp()
        exp = claims.get("exp")
        if not isinstance(exp, int) or not now < exp <= now + 24 * 3600:
            raise PushServiceError(f"exp {exp!r} not within 24 h of {int(now)}")
        sub = str(claims.get("sub", ""))
        if not sub.startswith(("mailto:", "https:")):
            raise PushServiceError(f"sub {sub!r}")
        return claims


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]] | None = None, body: bytes = b""
) -> None:
    length = (b"content-length", str(len(body)).encode())
    await send(
        {"type": "http.response.start", "status": status, "headers": [length, *(headers or [])]}
    )
    await send({"type": "http.response.body", "body": body})


@contextlib.asynccontextmanager
async def running(**options: Any) -> Any:
    service = LocalPushService(**options)
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


def serve_in_process(ready: Any, seed: str, verify_every: int) -> None:
    """A service process (the benchmark's): puts its origin on ``ready``, runs until killed."""

    async def main() -> None:
        service = LocalPushService(verify_every=verify_every, seed=seed, record=False)
        ready.put(await service.start())
        await asyncio.Event().wait()

    try:
        import uvloop  # type: ignore[import-not-found,unused-ignore]

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
