"""The push API's shapes (like Mastodon's) and the per-drop push stats."""

from __future__ import annotations

import binascii

from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import BaseModel, Field, field_validator

from dropbell.notifications.models import DROP_TYPES, NotificationType
from dropbell.push.keys import b64url_decode
from dropbell.types import OneLine

# The notification types a subscription may ask to be pushed, and the defaults.
DROP_ALERTS = (*DROP_TYPES, NotificationType.DROP_ANNOUNCED)
SOCIAL_ALERTS = (NotificationType.LIKE, NotificationType.REPOST)
ALERT_TYPES = DROP_ALERTS + SOCIAL_ALERTS
DEFAULT_ALERTS: dict[str, bool] = {t.value: t in DROP_ALERTS for t in ALERT_TYPES}


def _decoded(value: str, what: str) -> bytes:
    try:
        return b64url_decode(value)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not base64url") from None


class SubscriptionKeys(BaseModel):
    p256dh: str = Field(max_length=100, description="The browser's P-256 public key, base64url.")
    auth: str = Field(max_length=32, description="The 16-byte auth secret, base64url.")

    @field_validator("p256dh")
    @classmethod
    def _p256dh(cls, value: str) -> str:
        raw = _decoded(value, "p256dh")
        if len(raw) != 65 or raw[0] != 4:
            raise ValueError("p256dh must be a 65-byte uncompressed P-256 point")
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError:
            raise ValueError("p256dh is not a point on P-256") from None
        return value.strip().rstrip("=")

    @field_validator("auth")
    @classmethod
    def _auth(cls, value: str) -> str:
        if len(_decoded(value, "auth")) != 16:
            raise ValueError("auth must be 16 bytes")
        return value.strip().rstrip("=")


class SubscriptionIn(BaseModel):
    endpoint: OneLine = Field(min_length=1, max_length=2000, description="The push service URL.")
    keys: SubscriptionKeys


class AlertsIn(BaseModel):
    alerts: dict[str, bool] = Field(
        default_factory=dict,
        description="Per type: push it or not. Types not given keep their value (or default); "
        "types dropbell does not know are ignored.",
    )


class SubscribeBody(BaseModel):
    subscription: SubscriptionIn
    data: AlertsIn | None = None


class UpdateBody(BaseModel):
    data: AlertsIn


class Alerts(BaseModel):
    drop_soon: bool
    drop_live: bool
    drop_rescheduled: bool
    drop_cancelled: bool
    drop_announced: bool
    like: bool
    repost: bool


class PushSubscriptionOut(BaseModel):
    id: int
    endpoint: str
    alerts: Alerts
    server_key: str = Field(description="The VAPID public key this subscription is pushed with.")


class PushKeyOut(BaseModel):
    public_key: str = Field(description="The VAPID application server key, base64url.")


class PushLateness(BaseModel):
    """Milliseconds from a notice's due time to the push service accepting the push."""

    p50: float | None
    p99: float | None


class PushStats(BaseModel):
    sent: int = Field(description="Pushes the push services accepted.")
    failed: int = Field(description="Pushes given up on (refused, or out of retries).")
    expired: int = Field(description="Pushes dropped because their TTL passed first.")
    pending: int = Field(description="Pushes still to send (or to retry).")
    removed_subscriptions: int = Field(description="Subscriptions removed on a 404 or 410.")
    lateness_ms: PushLateness
