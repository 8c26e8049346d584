"""The events carried between processes, and their JSON wire form."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class NoticeReleased:
    """A drop's notice was released: its subscribers' streams get it."""

    notification_id: int
    drop_id: int


@dataclass(frozen=True)
class UnreadChanged:
    """An account read something: its streams get the new unread count."""

    account_id: int


@dataclass(frozen=True)
class NotificationCreated:
    """A personal notification (a like, a repost) was written for an account."""

    account_id: int
    notification_id: int


@dataclass(frozen=True)
class SessionsRevoked:
    """Tokens of an account were revoked (log out): their open streams end at once.

    ``token_ids`` None means every token of the account (log out everywhere).
    """

    account_id: int
    token_ids: list[int] | None = None


Event = NoticeReleased | UnreadChanged | NotificationCreated | SessionsRevoked
_KINDS: dict[str, type[Event]] = {
    "notice": NoticeReleased,
    "unread": UnreadChanged,
    "created": NotificationCreated,
    "revoked": SessionsRevoked,
}
_NAMES = {kind: name for name, kind in _KINDS.items()}


def encode(event: Event) -> str:
    return json.dumps({"t": _NAMES[type(event)], **asdict(event)}, separators=(",", ":"))


def decode(payload: str) -> Event | None:
    """The event, or None for one this version does not know (a newer process sent it)."""
    data = json.loads(payload)
    kind = _KINDS.get(data.pop("t", None))
    if kind is None:
        return None
    return kind(**data)
