"""What a push says: the JSON the service worker shows (web/static/sw.js), ≤ 4 KB encrypted.

``{title, body, icon, url, tag, notification_id, type}``. The URL is the drop's page
with ``source=push``; the tag is per drop and kind ("drop-12-live"), so a push sent
again replaces the first on the device instead of doubling it. The Topic header is
per drop, so the push service replaces an undelivered lead push with the launch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from dropbell import i18n
from dropbell.accounts.models import Account
from dropbell.drops.models import Drop
from dropbell.i18n import _, ngettext
from dropbell.notifications.models import NotificationType

# An aes128gcm body is a 86-byte header (salt, record size, the sender's key) plus
# the record: the plaintext, one delimiter byte and a 16-byte tag. Push services take
# bodies of 4096 bytes, so the plaintext gets at most this much.
MAX_PLAINTEXT = 4096 - 86 - 17
ICON = "/static/icons/icon-192.png"
URGENCY: dict[str, str] = {NotificationType.DROP_LIVE: "high"}


@dataclass(frozen=True)
class Message:
    """One notice's push, the same for every subscriber (only the encryption differs)."""

    notification_id: int
    kind: str
    payload: bytes
    topic: str
    urgency: str
    due_at: datetime
    expires_at: datetime


def _texts(kind: str, drop: Drop, brand: str, due_at: datetime) -> tuple[str, str]:
    """Title and body in the current language (i18n.use: the recipients')."""
    names = {"title": drop.title, "brand": brand}
    if kind == NotificationType.DROP_SOON:
        minutes = max(1, round((drop.launch_at - due_at).total_seconds() / 60))
        hours = round(minutes / 60)
        if minutes < 120:
            title = ngettext(
                "%(title)s drops in %(num)d minute", "%(title)s drops in %(num)d minutes", minutes
            ) % {**names, "num": minutes}
        else:
            title = ngettext(
                "%(title)s drops in %(num)d hour", "%(title)s drops in %(num)d hours", hours
            ) % {**names, "num": hours}
        return title, _("%(brand)s · tap to get ready.") % names
    if kind == NotificationType.DROP_LIVE:
        return _("%(title)s is live") % names, _("%(brand)s · shop it now.") % names
    if kind == NotificationType.DROP_RESCHEDULED:
        return (
            _("%(title)s has a new time") % names,
            _("%(brand)s moved the launch; tap for the new time.") % names,
        )
    if kind == NotificationType.DROP_CANCELLED:
        return _("%(title)s was cancelled") % names, _("%(brand)s called off this drop.") % names
    if kind == NotificationType.DROP_ANNOUNCED:
        return _("%(brand)s announced %(title)s") % names, _(
            "Tap Remind me to hear when it launches."
        )
    return drop.title, brand


def topic(drop_id: int) -> str:
    """The Topic header: base64url characters, at most 32."""
    return f"drop-{drop_id}"[:32]


def tag(drop_id: int, kind: str) -> str:
    return f"drop-{drop_id}-{kind.removeprefix('drop_')}"


def build(
    *,
    notification_id: int,
    kind: str,
    drop: Drop,
    brand: Account,
    public_url: str,
    due_at: datetime,
    expires_at: datetime,
    locale: str = i18n.DEFAULT,
    image_url: str | None = None,
) -> Message:
    """The push of one notice, in ``locale`` (its recipients' language). ``image_url``:
    the drop's image as shown (an upload's, ``drops.images.push_icon``), else its link;
    the icon only when it is https (a push shows nothing else)."""
    base = public_url.rstrip("/")
    image = image_url or drop.image_url or ""
    with i18n.use(locale):
        title, body = _texts(kind, drop, brand.display_name, due_at)
    data = {
        "title": title[:120],
        "body": body[:300],
        "icon": image if image.startswith("https://") else base + ICON,
        "url": f"{base}/drops/{drop.id}?source=push",
        "tag": tag(drop.id, kind),
        "notification_id": notification_id,
        "type": kind,
    }
    encoded = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    if len(encoded) > MAX_PLAINTEXT:  # a very long image URL: fall back to our icon
        data["icon"] = base + ICON
        encoded = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return Message(
        notification_id=notification_id,
        kind=kind,
        payload=encoded,
        topic=topic(drop.id),
        urgency=URGENCY.get(kind, "normal"),
        due_at=due_at,
        expires_at=expires_at,
    )
