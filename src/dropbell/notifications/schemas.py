from __future__ import annotations

from pydantic import BaseModel, Field

from dropbell.accounts.schemas import BrandOut
from dropbell.drops.schemas import DropOut, UTCDateTimeOut
from dropbell.notifications.models import NotificationType
from dropbell.posts.schemas import PostOut


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
