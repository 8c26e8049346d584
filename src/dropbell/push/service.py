"""Push subscriptions (one per access token) and the per-drop push stats. Services flush."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dropbell import dialect, errors
from dropbell.accounts.service import Viewer
from dropbell.context import Context
from dropbell.push import keys, netcheck
from dropbell.push.models import (
    DeliveryState,
    PushDelivery,
    PushJob,
    PushSubscription,
)
from dropbell.push.schemas import (
    ALERT_TYPES,
    DEFAULT_ALERTS,
    Alerts,
    PushKeyOut,
    PushLateness,
    PushStats,
    PushSubscriptionOut,
    SubscribeBody,
    UpdateBody,
)


async def public_key(ctx: Context) -> PushKeyOut:
    key = await keys.current_key(ctx)
    return PushKeyOut(public_key=key.public_key)


def _merge(current: dict[str, Any], given: dict[str, bool]) -> dict[str, bool]:
    """Known types only; what is not given keeps its current value (or the default)."""
    merged = {t.value: bool(current.get(t, DEFAULT_ALERTS[t])) for t in ALERT_TYPES}
    merged.update({t: v for t, v in given.items() if t in merged})
    return merged


def _out(row: PushSubscription, server_key: str) -> PushSubscriptionOut:
    return PushSubscriptionOut(
        id=row.id,
        endpoint=row.endpoint,
        alerts=Alerts(**_merge(row.alerts, {})),
        server_key=server_key,
    )


async def _token_subscription(session: AsyncSession, viewer: Viewer) -> PushSubscription:
    """The one way to fetch the caller's subscription (it belongs to their token)."""
    row = await session.scalar(
        select(PushSubscription).where(PushSubscription.access_token_id == viewer.token_id)
    )
    if row is None:
        raise errors.NotFound("This access token has no push subscription.")
    return row


async def subscribe(ctx: Context, viewer: Viewer, body: SubscribeBody) -> PushSubscriptionOut:
    """Subscribe the caller's token, replacing the token's subscription if it had one."""
    endpoint = body.subscription.endpoint.strip()
    await netcheck.check_endpoint(endpoint, ctx.settings.push_allowed)
    key = await keys.current_key(ctx)
    now = ctx.clock.now()
    alerts = _merge({}, body.data.alerts if body.data else {})
    values = {
        "account_id": viewer.account.id,
        "access_token_id": viewer.token_id,
        "endpoint": endpoint,
        "p256dh": body.subscription.keys.p256dh,
        "auth": body.subscription.keys.auth,
        "alerts": alerts,
        "created_at": now,
        "updated_at": now,
    }
    insert = dialect.insert(ctx.session, PushSubscription).values(**values)
    upsert = insert.on_conflict_do_update(
        index_elements=[PushSubscription.access_token_id],
        set_={name: insert.excluded[name] for name in values if name != "access_token_id"},
    )
    await ctx.session.execute(upsert)
    row = await _token_subscription(ctx.session, viewer)
    await ctx.session.refresh(row)
    return _out(row, key.public_key)


async def get_subscription(ctx: Context, viewer: Viewer) -> PushSubscriptionOut:
    row = await _token_subscription(ctx.session, viewer)
    key = await keys.current_key(ctx)
    return _out(row, key.public_key)


async def update_alerts(ctx: Context, viewer: Viewer, body: UpdateBody) -> PushSubscriptionOut:
    """Change which types are pushed; the types not given keep their value."""
    row = await _token_subscription(ctx.session, viewer)
    row.alerts = _merge(row.alerts, body.data.alerts)
    row.updated_at = ctx.clock.now()
    await ctx.session.flush()
    key = await keys.current_key(ctx)
    return _out(row, key.public_key)


async def unsubscribe(session: AsyncSession, viewer: Viewer) -> None:
    """Remove the caller token's subscription (idempotent: none is fine)."""
    await session.execute(
        delete(PushSubscription).where(PushSubscription.access_token_id == viewer.token_id)
    )


async def _percentile(session: AsyncSession, drop_id: int, sent: int, q: float) -> float | None:
    if sent == 0:
        return None
    value = await session.scalar(
        select(PushDelivery.lateness_ms)
        .join(PushJob, PushJob.notification_id == PushDelivery.notification_id)
        .where(PushJob.drop_id == drop_id, PushDelivery.state == DeliveryState.SENT)
        .order_by(PushDelivery.lateness_ms)
        .offset(max(0, math.ceil(q * sent) - 1))  # nearest rank
        .limit(1)
    )
    return None if value is None else float(value)


async def push_stats(session: AsyncSession, drop_id: int) -> PushStats:
    """Per drop: pushes by outcome, subscriptions removed, lateness (due → accepted)."""
    counts: dict[str, int] = {
        state: int(n)
        for state, n in await session.execute(
            select(PushDelivery.state, func.count())
            .join(PushJob, PushJob.notification_id == PushDelivery.notification_id)
            .where(PushJob.drop_id == drop_id)
            .group_by(PushDelivery.state)
        )
    }
    sent = counts.get(DeliveryState.SENT, 0)
    return PushStats(
        sent=sent,
        failed=counts.get(DeliveryState.FAILED, 0),
        expired=counts.get(DeliveryState.EXPIRED, 0),
        pending=counts.get(DeliveryState.PENDING, 0),
        removed_subscriptions=counts.get(DeliveryState.REMOVED, 0),
        lateness_ms=PushLateness(
            p50=await _percentile(session, drop_id, sent, 0.50),
            p99=await _percentile(session, drop_id, sent, 0.99),
        ),
    )
