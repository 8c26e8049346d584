"""VAPID keys (RFC 8292): the application server's P-256 key pair.

The key is the operator's (``DROPBELL_VAPID_PRIVATE_KEY``, PEM or the raw 32-byte
scalar in base64url) or, if none is set, generated on first use and kept in
``push_keys``. The private key is never logged and never leaves the server; only
the public key (an uncompressed point, base64url) is handed out.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, func, select, update

from dropbell import dialect, errors
from dropbell.config import Settings
from dropbell.context import Context
from dropbell.push.models import PushKey, PushSubscription

log = logging.getLogger(__name__)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding (also accepts the standard alphabet)."""
    text = text.strip().replace("+", "-").replace("/", "_").rstrip("=")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class SigningKey:
    """The key pushes are signed with. ``id`` None: the operator's key from the settings."""

    id: int | None
    public_key: str
    private: ec.EllipticCurvePrivateKey = field(repr=False, compare=False)


def public_of(private: ec.EllipticCurvePrivateKey) -> str:
    raw = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(raw)


def parse_private_key(text: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 private key from PEM (PKCS#8 or SEC1) or a raw base64url scalar."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            scalar = b64url_decode(text)
            if len(scalar) != 32:
                raise ValueError("a raw key is 32 bytes")
            key = ec.derive_private_key(int.from_bytes(scalar, "big"), ec.SECP256R1())
    except ValueError as exc:
        # The message never includes the key itself.
        raise ValueError(f"the VAPID private key is not a usable key ({exc})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("the VAPID private key must be a P-256 (prime256v1) EC key")
    return key


def _pem(private: ec.EllipticCurvePrivateKey) -> str:
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def _from_row(row: PushKey) -> SigningKey:
    return SigningKey(row.id, row.public_key, parse_private_key(row.private_key))


def _configured(settings: Settings) -> SigningKey | None:
    if settings.vapid_private_key is None:
        return None
    private = parse_private_key(settings.vapid_private_key.get_secret_value())
    return SigningKey(None, public_of(private), private)


async def current_key(ctx: Context) -> SigningKey:
    """The key in use: the operator's, else the database's (made now if there is none).

    Two processes starting at once may both try to make it; the unique ``current``
    column lets one win and the other read the winner's.
    """
    configured = _configured(ctx.settings)
    if configured is not None:
        return configured
    row = await ctx.session.scalar(select(PushKey).where(PushKey.current.is_(True)))
    if row is not None:
        return _from_row(row)
    private = ec.generate_private_key(ec.SECP256R1())
    public = public_of(private)
    # One statement (a GET may run a statement at a time: db.reading), so no savepoint.
    await ctx.session.execute(
        dialect.insert(ctx.session, PushKey)
        .values(
            private_key=_pem(private), public_key=public, current=True, created_at=ctx.clock.now()
        )
        .on_conflict_do_nothing()
    )
    row = await ctx.session.scalar(select(PushKey).where(PushKey.current.is_(True)))
    assert row is not None
    if row.public_key == public:
        log.info("generated the VAPID key %s", public)
    return _from_row(row)


@dataclass(frozen=True)
class Rotation:
    public_key: str
    removed_subscriptions: int


async def rotate_key(ctx: Context) -> Rotation:
    """Retire the current key, make a new one, and remove every subscription.

    A browser's subscription is bound to the key it was made with (its
    ``applicationServerKey``); push services refuse pushes signed with another. So the
    old subscriptions cannot be used any more: they are removed, and each client,
    finding none (``GET /api/v1/push/subscription`` is a 404), subscribes again with
    the new key.
    """
    if ctx.settings.vapid_private_key is not None:
        raise errors.Conflict(
            "The VAPID key comes from DROPBELL_VAPID_PRIVATE_KEY; change that setting instead."
        )
    now = ctx.clock.now()
    await ctx.session.execute(
        update(PushKey).where(PushKey.current.is_(True)).values(current=None, retired_at=now)
    )
    await ctx.session.flush()
    removed = await ctx.session.scalar(select(func.count()).select_from(PushSubscription)) or 0
    await ctx.session.execute(delete(PushSubscription))
    key = await current_key(ctx)
    log.info("rotated the VAPID key: now %s; %d subscriptions removed", key.public_key, removed)
    return Rotation(public_key=key.public_key, removed_subscriptions=removed)
