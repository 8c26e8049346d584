from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer

from dropbell.accounts.schemas import BrandOut, Country
from dropbell.confusables import mixes_scripts
from dropbell.drops.models import DropStatus
from dropbell.media.schemas import ImageSize
from dropbell.posts.tags import normalise_tag
from dropbell.push.schemas import PushStats
from dropbell.types import MAX_ID, MultiLine, OneLine

ShopSource = Literal["notification", "push", "post", "tag", "drop"]


def _utc(value: datetime) -> datetime:
    from datetime import UTC

    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T22:00-05:00 is past the calendar in UTC
        raise ValueError("a time from year 1 to 9999 in UTC") from None


def _currency(value: str) -> str:
    if not (len(value) == 3 and value.isalpha() and value.isascii()):
        raise ValueError("an ISO 4217 currency code, like USD")
    return value.upper()


def _price(value: Decimal) -> Decimal:
    if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
        raise ValueError("a price from 0 up to 999999999999.99")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("at most two decimal places")
    return value.quantize(Decimal("0.01"))


def _tag(value: str) -> str:
    tag = normalise_tag(value)
    if mixes_scripts(tag):
        raise ValueError(
            "a hashtag in one script (this one mixes scripts, e.g. Latin and Cyrillic)"
        )
    return tag


def _image_url(value: str) -> str:
    """An absolute https URL with a host of its own: never a path on dropbell (``/x``,
    ``//host``, ``https:/x``), which every viewer's browser would fetch as them. That the
    host is not dropbell's own is checked where the public URL is known
    (``drops.service.check_image_url``)."""
    if any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in value):
        raise ValueError("an absolute https URL, without spaces or backslashes")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError:
        raise ValueError("an absolute https URL") from None
    if parts.scheme != "https" or not value.lower().startswith("https://") or not host:
        raise ValueError("an absolute https URL (https://…), not a path or //host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("an https URL without a user name or password")
    return value


UTCDateTimeOut = Annotated[
    datetime, PlainSerializer(lambda v: _utc(v).isoformat().replace("+00:00", "Z"), return_type=str)
]
LaunchAt = Annotated[AwareDatetime, AfterValidator(_utc)]
Currency = Annotated[str, AfterValidator(_currency)]
Price = Annotated[Decimal, AfterValidator(_price)]
Tag = Annotated[OneLine, Field(max_length=101), AfterValidator(_tag)]
ImageUrl = Annotated[OneLine, Field(max_length=2000), AfterValidator(_image_url)]

MEDIA_DOC = "An image you uploaded (POST /api/v1/media), instead of `image_url`; null removes it."
COUNTRIES_DOC = (
    "Where the drop is sold: ISO 3166-1 alpha-2 codes (stored upper case, sorted). "
    "Elsewhere it is an ordinary post and Remind me answers 403 `not_eligible`; "
    "null: sold everywhere."
)
Countries = Annotated[list[Country], Field(min_length=1, max_length=300)]

ALT_DOC = (
    "The image's alt text: what it shows, for shoppers who cannot see it "
    '("A quilted black leather bag on a gold chain"); "" when not given.'
)


class DropCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: OneLine = Field(min_length=1, max_length=120)
    description: MultiLine = Field("", max_length=5000)
    price: Price | None = None
    currency: Currency | None = None
    image_url: ImageUrl | None = None
    media_id: int | None = Field(None, ge=1, le=MAX_ID, description=MEDIA_DOC)
    image_alt: OneLine = Field("", max_length=300, description=ALT_DOC)
    countries: Countries | None = Field(None, description=COUNTRIES_DOC)
    launch_at: LaunchAt = Field(description="RFC 3339 with an offset; must be in the future.")
    shop_url: OneLine = Field(max_length=2000, description="https, on one of your shop domains.")
    tag: Tag = Field(description="The drop's hashtag, without '#'.")


class DropUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: OneLine | None = Field(None, min_length=1, max_length=120)
    description: MultiLine | None = Field(None, max_length=5000)
    price: Price | None = None
    currency: Currency | None = None
    image_url: ImageUrl | None = None
    media_id: int | None = Field(None, ge=1, le=MAX_ID, description=MEDIA_DOC)
    image_alt: OneLine | None = Field(None, max_length=300, description=ALT_DOC)
    countries: Countries | None = Field(None, description=COUNTRIES_DOC)
    launch_at: LaunchAt | None = Field(None, description="A new time reschedules the drop.")
    shop_url: OneLine | None = Field(None, max_length=2000)
    tag: Tag | None = None


class DropOut(BaseModel):
    id: int
    brand: BrandOut
    title: str
    description: str
    price: str | None = Field(description='A decimal string, e.g. "129.00".')
    currency: str | None
    image_url: str | None = Field(
        description="The image: an uploaded one's largest size, or the brand's link."
    )
    image_alt: str = Field(description=ALT_DOC)
    media_id: int | None = Field(description="The uploaded image's id (null: none, or a link).")
    image_sizes: list[ImageSize] | None = Field(
        description="An uploaded image's sizes, smallest first, each also as WebP; null for a link."
    )
    countries: list[str] | None = Field(description=COUNTRIES_DOC)
    launch_at: UTCDateTimeOut
    status: DropStatus
    tag: str
    shop_url: str
    post_id: int
    reminder_count: int
    reminded: bool
    remindable: bool
    reminder_offsets: list[int] | None = Field(
        description="The caller's chosen leads in seconds (null without a reminder); "
        "the launch notice always comes."
    )
    offset_choices: list[int] = Field(
        description="The leads a shopper may choose, in seconds (DROPBELL_REMINDER_OFFSETS)."
    )
    url: str


class RemindBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offsets: list[int] | None = Field(
        None,
        max_length=10,
        description="Leads in seconds, each one of the drop's `offset_choices`; "
        "without it, the default lead (DROPBELL_REMINDER_LEAD_SECONDS).",
    )


class ShopClicks(BaseModel):
    total: int
    notification: int
    push: int = Field(description="From the drop page opened by a push notification.")
    post: int
    tag: int
    drop: int


class Lateness(BaseModel):
    p50: float | None
    p99: float | None
    max: float | None


class ShopperFunnel(BaseModel):
    """The drop's funnel in people: each shopper (account) counted once per step."""

    reminded: int = Field(description="Shoppers who set Remind me at any time (undone too).")
    told: int = Field(
        description="Shoppers a released notice of the drop reached (a lead, the launch, "
        "a reschedule, the cancellation): their reminder covered its due time."
    )
    opened: int = Field(
        description="Shoppers who opened a notification of the drop: in the inbox, or a push."
    )
    clicked: int = Field(description="Shoppers who tapped Shop on website, from anywhere.")
    clicked_anonymous: int = Field(
        description="Visitors without an account who tapped Shop on website, each counted "
        "once (by their address, an IPv6 address by its /64)."
    )


class SourceFigures(BaseModel):
    opens: int = Field(description="Distinct people who opened the drop from there.")
    clicks: int = Field(description="Distinct people who tapped Shop on website from there.")


class BySource(BaseModel):
    notification: SourceFigures = Field(description="The inbox's notification.")
    push: SourceFigures = Field(description="A push notification, tapped.")
    post: SourceFigures = Field(description="The drop's card in a timeline or a post.")
    tag: SourceFigures = Field(description="The drop's card on its tag page.")
    drop: SourceFigures = Field(description="The drop's page, reached directly.")


class HourFigures(BaseModel):
    hours_before: int = Field(description="0: the last hour before the launch.")
    start: UTCDateTimeOut = Field(description="When it began: launch_at - (hours_before + 1) h.")
    reminders: int = Field(description="Shoppers who first set Remind me in that hour.")


class DropStats(BaseModel):
    reminders: int
    notified_soon: int
    notified_live: int
    opened: int
    shop_clicks: ShopClicks
    lateness_ms: Lateness
    push: PushStats
    funnel: ShopperFunnel
    sources: BySource = Field(description="Opens and clicks by where they came from.")
    reminders_by_hour: list[HourFigures] = Field(
        description="New reminders per hour before the launch, earliest first; hours "
        "without any are left out."
    )
