"""Imports every domain's models so that ``Base.metadata`` knows every table."""

from dropbell.accounts.models import AccessToken, Account, ShopDomain
from dropbell.db import Base
from dropbell.drops.models import Drop, ShopClick
from dropbell.notifications.models import DropOpen, Notification
from dropbell.posts.models import Post, PostTag
from dropbell.reminders.models import Delivery, Reminder, ReminderJob

__all__ = [
    "AccessToken",
    "Account",
    "Base",
    "Delivery",
    "Drop",
    "DropOpen",
    "Notification",
    "Post",
    "PostTag",
    "Reminder",
    "ReminderJob",
    "ShopClick",
    "ShopDomain",
]
