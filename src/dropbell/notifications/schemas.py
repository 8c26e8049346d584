from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from dropbell.accounts.schemas import BrandOut
from dropbell.drops.schemas import DropOut, UTCDateTimeOut

NotificationType = Literal[
    "drop_soon", "drop_live", "drop_rescheduled", "drop_cancelled", "like", "repost"
]


class NotificationOut(BaseModel):
    id: int
    type: NotificationType
    created_at: UTCDateTimeOut
    read: bool
    drop: DropOut | None = None
    post: dict[str, Any] | None = None
    account: BrandOut | None = None


class Count(BaseModel):
    count: int
