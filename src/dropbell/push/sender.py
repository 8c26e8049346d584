"""Sending pushes (RFC 8030): encrypted per RFC 8291 (aes128gcm), signed per RFC 8292.

One pooled ``httpx.AsyncClient`` per push-service origin (HTTP/2 where the service
speaks it), its VAPID ``Authorization`` header cached and signed again an hour before
it expires (12 hours after signing; RFC 8292 allows at most 24), and at most
``push_concurrency`` requests in flight. :meth:`Sender.send` never raises for what a
push service answers: it returns an :class:`Outcome` for the ledger.

- 201/202 (any 2xx): sent.
- 404/410: the subscription is gone: removed.
- 413: the payload is too big for that service: failed (and logged).
- 429 and 5xx (and timeouts, refused connections): retried later, with exponential
  backoff that honours Retry-After, at most ``push_max_attempts`` tries.
- Past the notice's TTL deadline: expired, never sent late.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import http_ece  # type: ignore[import-untyped]
import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02  # type: ignore[import-untyped]

from dropbell import errors, metrics
from dropbell.clock import Clock
from dropbell.config import Settings
from dropbell.push import netcheck
from dropbell.push.keys import SigningKey, b64url_decode
from dropbell.push.models import DeliveryState
from dropbell.push.payload import Message
from dropbell.push.transport import AiohttpTransport

log = logging.getLogger(__name__)

RETRY = "retry"  # not a ledger state: the row stays pending with a later next_at
VAPID_LIFETIME = timedelta(hours=12)
VAPID_RENEW_BEFORE = timedelta(hours=1)
ORIGIN_RECHECK = timedelta(minutes=5)


@dataclass(frozen=True)
class Target:
    """One ledger row to push: the delivery and its subscription's keys."""

    delivery_id: int
    subscription_id: int
    endpoint: str
    p256dh: str
    auth: str
    attempts: int  # tries so far
    language: str | None = None  # the subscriber's: the push is written in it


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    subscription_id: int
    state: str  # a DeliveryState but PENDING (SENT, FAILED, REMOVED, EXPIRED), or RETRY
    status: int | None = None
    at: datetime | None = None  # when the service answered
    latency_ms: int | None = None
    retry_at: datetime | None = None


def encrypt(payload: bytes, p256dh: str, auth: str) -> bytes:
    """RFC 8291 aes128gcm, with a fresh ephemeral key and salt (http_ece does the crypto)."""
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    body: bytes = http_ece.encrypt(
        payload,
        salt=os.urandom(16),
        private_key=ephemeral,
        dh=b64url_decode(p256dh),
        auth_secret=b64url_decode(auth),
        version="aes128gcm",
    )
    return body


def origin_of(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


class _Origin:
    def __init__(self, client: httpx.AsyncClient, allowed: bool, checked_at: datetime) -> None:
        self.client = client
        self.allowed = allowed
        self.checked_at = checked_at
        self.vapid: dict[str, tuple[str, datetime]] = {}  # public key → (header, expiry)


class Sender:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.subject = vapid_subject(settings)
        self._origins: dict[str, _Origin] = {}
        self._gate = asyncio.Semaphore(settings.push_concurrency)
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        origins, self._origins = self._origins, {}
        for origin in origins.values():
            await origin.client.aclose()

    async def send_many(
        self, key: SigningKey, message: Message, targets: list[Target]
    ) -> list[Outcome]:
        """Push ``message`` to every target, at most ``push_concurrency`` at a time."""
        return list(await asyncio.gather(*(self.send(key, message, t) for t in targets)))

    async def send(self, key: SigningKey, message: Message, target: Target) -> Outcome:
        """One push; may be sent again if the worker dies before the outcome is recorded."""
        async with self._gate:
            now = self.clock.now()
            ttl = int((message.expires_at - now).total_seconds())
            if ttl <= 0:
                return self._count(
                    Outcome(target.delivery_id, target.subscription_id, DeliveryState.EXPIRED)
                )
            origin = await self._origin(origin_of(target.endpoint))
            if not origin.allowed:
                return self._count(
                    Outcome(target.delivery_id, target.subscription_id, DeliveryState.FAILED)
                )
            headers = {
                "TTL": str(ttl),
                "Urgency": message.urgency,
                "Topic": message.topic,
                "Content-Encoding": "aes128gcm",
                "Content-Type": "application/octet-stream",
                "Authorization": self._vapid(origin, origin_of(target.endpoint), key, now),
            }
            body = encrypt(message.payload, target.p256dh, target.auth)
            started = time.perf_counter()
            try:
                response = await origin.client.post(target.endpoint, content=body, headers=headers)
            except httpx.HTTPError as exc:
                log.info("push to %s failed: %s", origin_of(target.endpoint), type(exc).__name__)
                return self._count(self._retry(target, message, None, None))
            elapsed = time.perf_counter() - started
            metrics.PUSH_SECONDS.observe(elapsed)
            return self._count(self._judge(target, message, response, int(elapsed * 1000)))

    def _judge(
        self, target: Target, message: Message, response: httpx.Response, latency_ms: int
    ) -> Outcome:
        status = response.status_code
        at = self.clock.now()
        ids = (target.delivery_id, target.subscription_id)
        if 200 <= status < 300:
            return Outcome(*ids, DeliveryState.SENT, status, at, latency_ms)
        if status in (404, 410):
            return Outcome(*ids, DeliveryState.REMOVED, status, at, latency_ms)
        if status == 429 or status >= 500:
            return self._retry(target, message, status, response.headers.get("Retry-After"))
        where = origin_of(target.endpoint)
        if status == 413:
            log.warning(
                "push to %s: 413, payload of %d bytes too large", where, len(message.payload)
            )
        else:
            log.warning("push to %s refused with %d", where, status)
        return Outcome(*ids, DeliveryState.FAILED, status, at, latency_ms)

    def _retry(
        self, target: Target, message: Message, status: int | None, header: str | None
    ) -> Outcome:
        now = self.clock.now()
        ids = (target.delivery_id, target.subscription_id)
        tries = target.attempts + 1
        if tries >= self.settings.push_max_attempts:
            return Outcome(*ids, DeliveryState.FAILED, status, now)
        backoff = min(
            self.settings.push_retry_seconds * 2 ** (tries - 1),
            self.settings.push_retry_max_seconds,
        )
        asked = retry_after(header, now)
        delay = max(backoff, asked or 0.0)  # never sooner than the service asked
        retry_at = now + timedelta(seconds=delay)
        if retry_at >= message.expires_at:
            return Outcome(
                *ids, DeliveryState.EXPIRED, status, now
            )  # the retry would come too late
        return Outcome(*ids, RETRY, status, now, retry_at=retry_at)

    def _count(self, outcome: Outcome) -> Outcome:
        metrics.PUSHES.labels(outcome.state).inc()
        return outcome

    async def _origin(self, origin: str) -> _Origin:
        """The pooled client for ``origin``; its address is checked on first use and every
        few minutes (a name that now points inside our network gets no more pushes)."""
        now = self.clock.now()
        known = self._origins.get(origin)
        if known is not None and now - known.checked_at < ORIGIN_RECHECK:
            return known
        async with self._lock:
            known = self._origins.get(origin)
            if known is not None and now - known.checked_at < ORIGIN_RECHECK:
                return known
            try:
                await netcheck.check_endpoint(origin + "/", self.settings.push_allowed)
                allowed = True
            except errors.AppError as exc:
                log.warning("not pushing to %s: %s", origin, exc.detail)
                allowed = False
            if known is not None:
                known.allowed, known.checked_at = allowed, now
                return known
            self._origins[origin] = created = _Origin(self._client(), allowed, now)
            return created

    def _client(self) -> httpx.AsyncClient:
        """One origin's pooled client: HTTP/2 (httpx's transport) or HTTP/1.1 on aiohttp's
        pool (``push_http2`` off; see :mod:`dropbell.push.transport`)."""
        n, timeout = self.settings.push_concurrency, self.settings.push_timeout_seconds
        if not self.settings.push_http2:
            transport = AiohttpTransport(limit=n, timeout=timeout)
            return httpx.AsyncClient(transport=transport, timeout=timeout, trust_env=False)
        return httpx.AsyncClient(
            http2=True,
            limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
        )

    def _vapid(self, origin: _Origin, aud: str, key: SigningKey, now: datetime) -> str:
        cached = origin.vapid.get(key.public_key)
        if cached is not None and now < cached[1] - VAPID_RENEW_BEFORE:
            return cached[0]
        expires = now + VAPID_LIFETIME
        claims = {"aud": aud, "exp": int(expires.timestamp()), "sub": self.subject}
        header: str = Vapid02(key.private).sign(claims)["Authorization"]
        origin.vapid[key.public_key] = (header, expires)
        return header


def vapid_subject(settings: Settings) -> str:
    """The contact the VAPID token names: the setting, else the public URL if https."""
    if settings.vapid_subject:
        return settings.vapid_subject
    parts = urlsplit(settings.public_url)
    if parts.scheme == "https" and parts.hostname:
        return f"https://{parts.hostname}"
    return "mailto:push@localhost"
