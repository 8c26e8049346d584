"""Who may act on a drop: the drop fetched and the caller authorised in one call, the one
check every brand action makes, in the API and the web console alike."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dropbell import errors
from dropbell.accounts.service import Viewer
from dropbell.drops.models import Drop


def require_partner(viewer: Viewer) -> None:
    """403 ``not_partner`` unless ``viewer`` is an approved partner brand now (``dropbell
    partner remove`` takes effect at once, in the API and the web console alike)."""
    if not viewer.account.is_partner:
        raise errors.NotPartner()


async def get_drop(session: AsyncSession, drop_id: int, *, for_update: bool = False) -> Drop:
    """The drop, for anyone to see (404 if there is none); ``for_update`` locks its row."""
    query = select(Drop).where(Drop.id == drop_id)
    if for_update:
        query = query.with_for_update()
    drop = await session.scalar(query)
    if drop is None:
        raise errors.NotFound("No such drop.")
    return drop


async def access_drop(
    session: AsyncSession, viewer: Viewer, drop_id: int, *, for_update: bool = False
) -> Drop:
    """The drop, if ``viewer`` is a partner brand that owns it (403 ``not_partner``, 404,
    403 ``not_owner``, in that order); ``for_update`` locks its row for an edit."""
    require_partner(viewer)
    drop = await get_drop(session, drop_id, for_update=for_update)
    if drop.brand_id != viewer.account.id:
        raise errors.NotOwner()
    return drop
