"""How drops look to a viewer (presenters apart from services): their brands, the viewer's
reminders, Remind me for them (the rollout and where the drop is sold), their images, in
a fixed number of queries whatever the number of drops."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import and_, bindparam, select

from dropbell.accounts.models import Account
from dropbell.accounts.schemas import BrandOut
from dropbell.accounts.service import Caller, Viewer, caller_of
from dropbell.clock import Clock
from dropbell.config import Settings
from dropbell.context import Context
from dropbell.drops import images, regions
from dropbell.drops.models import Drop, DropStatus, drop_status
from dropbell.drops.rollout import is_eligible
from dropbell.drops.schemas import DropOut
from dropbell.media import service as media
from dropbell.media.models import Media
from dropbell.media.service import Picture
from dropbell.reminders import service as reminders
from dropbell.reminders.hotpath import Toggled, ToggledDrop
from dropbell.reminders.models import Reminder, parse_offsets
from dropbell.types import BigId


async def present(ctx: Context, drops: Sequence[Drop], viewer: Viewer | None) -> list[DropOut]:
    """Drops as the viewer sees them: four queries at most, whatever the number of drops."""
    if not drops:
        return []
    uploads = await media.by_ids(ctx.session, {d.media_id for d in drops if d.media_id})
    brand_ids = {d.brand_id for d in drops}
    brands = {
        a.id: BrandOut.of(a)
        for a in await ctx.session.scalars(select(Account).where(Account.id.in_(brand_ids)))
    }
    reminded = (
        await reminders.reminded_offsets(ctx.session, viewer.account.id, [d.id for d in drops])
        if viewer
        else {}
    )
    caller = caller_of(viewer)
    eligible, country = is_eligible(ctx.settings, caller), _country(caller)
    now = ctx.clock.now()
    return [
        _drop_out(
            ctx.settings,
            now,
            drop,
            brands[drop.brand_id],
            (eligible, country),
            reminded.get(drop.id),
            picture=images.picture_of(ctx.settings, uploads.get(drop.media_id or 0)),
        )
        for drop in drops
    ]


def _country(caller: Caller | None) -> str:
    return caller.country if caller is not None else ""


# The drops of an inbox page, their brands and the viewer's open reminders on them, in
# one statement built once (an inbox page used to take three round trips for them).
_SHOWN = (
    select(
        Drop,
        Account.username,
        Account.display_name,
        Account.is_partner,
        Reminder.offsets,
        Media.key.label("media_key"),
        Media.fallback.label("media_fallback"),
        Media.sizes.label("media_sizes"),
    )
    .join(Account, Account.id == Drop.brand_id)
    .outerjoin(Media, Media.id == Drop.media_id)
    .outerjoin(
        Reminder,
        and_(
            Reminder.drop_id == Drop.id,
            Reminder.account_id == bindparam("viewer_id", type_=BigId),
            Reminder.ended_at.is_(None),
        ),
    )
    .where(Drop.id.in_(bindparam("drop_ids", expanding=True)))
)


async def present_ids(
    ctx: Context, drop_ids: Collection[int], viewer: Viewer | None
) -> dict[int, DropOut]:
    """The drops ``drop_ids`` as the viewer sees them, by id: one query (``present``
    shows drops already loaded)."""
    if not drop_ids:
        return {}
    params = {"viewer_id": viewer.account.id if viewer else 0, "drop_ids": list(drop_ids)}
    caller = caller_of(viewer)
    eligible = (is_eligible(ctx.settings, caller), _country(caller))
    now = ctx.clock.now()
    return {
        row.Drop.id: _drop_out(
            ctx.settings,
            now,
            row.Drop,
            BrandOut(
                id=row.Drop.brand_id,
                username=row.username,
                display_name=row.display_name,
                is_partner=row.is_partner,
            ),
            eligible,
            parse_offsets(row.offsets) if row.offsets is not None else None,
            picture=images.picture_from_row(ctx.settings, row),
        )
        for row in await ctx.session.execute(_SHOWN, params)
    }


def _drop_out(
    settings: Settings,
    now: datetime,
    drop: Drop | ToggledDrop,
    brand: BrandOut,
    eligible: tuple[bool, str],
    offsets: list[int] | None,
    reminder_count: int | None = None,
    *,
    picture: Picture | None = None,
) -> DropOut:
    """``drop``: a ``Drop``, or the row Remind me read (it reads no ORM objects).
    ``eligible``: whether the rollout lets the viewer in, and the viewer's country (the
    drop's ``countries`` are checked here); ``picture``: its upload, if it has one."""
    status = drop_status(drop.launch_at, drop.cancelled_at, now)
    rolled_out, country = eligible
    remindable = rolled_out and regions.sold_in(drop.countries, country)
    return DropOut(
        id=drop.id,
        brand=brand,
        title=drop.title,
        description=drop.description,
        price=drop.price,
        currency=drop.currency,
        image_url=picture.largest.url if picture else drop.image_url,
        image_alt=drop.image_alt,
        media_id=drop.media_id,
        image_sizes=picture.sizes if picture else None,
        countries=regions.parse(drop.countries),
        launch_at=drop.launch_at,
        status=status,
        tag=drop.tag,
        shop_url=drop.shop_url,
        post_id=drop.post_id,
        reminder_count=drop.reminder_count if reminder_count is None else reminder_count,
        reminded=offsets is not None,
        remindable=remindable and status == DropStatus.SCHEDULED,
        reminder_offsets=offsets,
        offset_choices=settings.offset_choices,
        url=f"{settings.public_url.rstrip('/')}/drops/{drop.id}",
    )


async def present_one(ctx: Context, drop: Drop, viewer: Viewer | None) -> DropOut:
    return (await present(ctx, [drop], viewer))[0]


def present_toggled(clock: Clock, settings: Settings, caller: Caller, toggled: Toggled) -> DropOut:
    """The drop as the caller sees it right after Remind me (or its undo): what
    :func:`present_one` shows, from the row the toggle read (no further query)."""
    drop = toggled.drop
    brand = BrandOut(
        id=drop.brand_id,
        username=drop.brand_username,
        display_name=drop.brand_display_name,
        is_partner=drop.brand_is_partner,
    )
    return _drop_out(
        settings,
        clock.now(),
        drop,
        brand,
        (is_eligible(settings, caller), caller.country),
        toggled.offsets,
        toggled.reminder_count,
        picture=images.picture_from_row(settings, drop),
    )
