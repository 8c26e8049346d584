"""Imports every domain's models so that ``Base.metadata`` knows every table."""

from dropbell.accounts.models import AccessToken, Account, ShopDomain
from dropbell.brands.models import Follow
from dropbell.db import Base
from dropbell.drops.models import Drop, DropVisit, ShopClick
from dropbell.media.models import Media
from dropbell.notifications.models import DropOpen, NoticeRead, Notification
from dropbell.posts.models import Bookmark, Like, Post, PostTag, Repost, Share
from dropbell.push.models import PushDelivery, PushJob, PushKey, PushSubscription
from dropbell.reminders.models import Delivery, Reminder, ReminderJob
from dropbell.search.models import AccountSearch, DropSearch, Hashtag, PostSearch

__all__ = [
    "AccessToken",
    "Account",
    "AccountSearch",
    "Base",
    "Bookmark",
    "Delivery",
    "Drop",
    "DropOpen",
    "DropSearch",
    "DropVisit",
    "Follow",
    "Hashtag",
    "Like",
    "Media",
    "NoticeRead",
    "Notification",
    "Post",
    "PostSearch",
    "PostTag",
    "PushDelivery",
    "PushJob",
    "PushKey",
    "PushSubscription",
    "Reminder",
    "ReminderJob",
    "Repost",
    "Share",
    "ShopClick",
    "ShopDomain",
]
