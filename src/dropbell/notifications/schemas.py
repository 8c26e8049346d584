from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from dropbell.accounts.schemas import BrandOut
from dropbell.drops.schemas import DropOut, UTCDateTimeOut
from dropbell.posts.schemas import PostOut

NotificationType = Literal[
    "drop_soon",
    "drop_live",
    "drop_rescheduled",
    "drop_cancelled",
    "drop_announced",
    "like",
    "repost",
]


class NotificationOut(BaseModel):
    id: int
    type: NotificationType
    created_at: UTCDateTimeOut
    read: bool
    drop: DropOut | None = None
    post: PostOut | None = Field(
        None, description="For `like` and `repost`: the post (null once it was deleted)."
    )
    account: BrandOut | None = Field(
        None,
        description="For `like` and `repost`: who liked or reposted; for `drop_announced`: "
        "the followed brand that announced the drop.",
    )
    lead_seconds: int | None = Field(
        None, description="For `drop_soon`: how long before the launch it was due."
    )


class Count(BaseModel):
    count: int
