"""Loading the demo (:mod:`.data`) into a database: through the services, on a fake clock
started three hours ago and walked to now, so that it looks as if people did it. Also
what ``--reset`` finds and deletes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from rich.console import Console
from rich.table import Table
from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dropbell.accounts import service as accounts
from dropbell.accounts.models import Account
from dropbell.accounts.schemas import AccountCreate
from dropbell.accounts.service import Viewer
from dropbell.brands import service as brands
from dropbell.clock import FakeClock
from dropbell.config import Settings
from dropbell.context import Context
from dropbell.db import make_engine, make_sessionmaker, transaction
from dropbell.drops import service as drops
from dropbell.drops.models import Drop
from dropbell.drops.schemas import DropCreate
from dropbell.notifications.models import DropOpen, NoticeRead, Notification
from dropbell.posts import service as posts
from dropbell.posts.models import Post
from dropbell.posts.schemas import PostCreate
from dropbell.reminders import hotpath
from dropbell.reminders.scheduler import Scheduler
from dropbell.search import index as search_index
from dropbell.tools.demo.data import (
    BRANDS,
    DEMO_USERNAMES,
    DROPS,
    FOLLOWERS,
    IMAGE_ALT,
    LEADS,
    PASSWORD,
    POSTS,
    SHOPPER,
    SHOPPERS,
)


def _leads(settings: Settings, leads: list[int] | None) -> list[int] | None:
    """Only what this operator's menu offers (DROPBELL_REMINDER_OFFSETS may differ)."""
    if leads is None:
        return None
    return [lead for lead in leads if lead in settings.allowed_offsets] or None


async def _remove_previous(session: AsyncSession) -> None:
    ids = list(
        await session.scalars(select(Account.id).where(Account.username.in_(DEMO_USERNAMES)))
    )
    if not ids:
        return
    drop_ids = list(await session.scalars(select(Drop.id).where(Drop.brand_id.in_(ids))))
    # Personal notifications (likes, reposts) of and by the demo's people; the drops'
    # notices (account_id NULL) go with the drops. Read marks and opens have no FK.
    await session.execute(
        delete(Notification).where(
            or_(Notification.account_id.in_(ids), Notification.actor_id.in_(ids))
        )
    )
    await session.execute(delete(NoticeRead).where(NoticeRead.account_id.in_(ids)))
    await session.execute(delete(DropOpen).where(DropOpen.account_id.in_(ids)))
    if drop_ids:
        await session.execute(delete(Notification).where(Notification.drop_id.in_(drop_ids)))
        await session.execute(delete(DropOpen).where(DropOpen.drop_id.in_(drop_ids)))
        await session.execute(delete(Drop).where(Drop.id.in_(drop_ids)))
    await session.execute(delete(Account).where(Account.id.in_(ids)))
    await search_index.recount_tags(session)  # their posts' tags went with them


async def _add_posts(ctx: Context, now: datetime) -> None:
    """Shoppers and brands talk about the drops; the others like, repost and bookmark."""
    session = ctx.session
    rows = await session.scalars(select(Account).where(Account.username.in_(DEMO_USERNAMES)))
    people = {a.username: Viewer(account=a, platform="ios", token_id=0) for a in rows}
    drop_posts = {d.tag: d.post_id for d in await session.scalars(select(Drop))}
    for spec in POSTS:
        clock = FakeClock(now - spec.ago)
        at = replace(ctx, clock=clock)
        if spec.repost_of_drop:
            announcement = drop_posts[spec.repost_of_drop.casefold()]
            await posts.toggle(at, people[spec.author], announcement, "repost")
            await posts.toggle(at, people[spec.author], announcement, "like")
            continue
        post = await posts.create_post(at, people[spec.author], PostCreate(text=spec.text))
        for i, username in enumerate(spec.liked_by):
            clock.advance(timedelta(seconds=40 + 20 * i))
            await posts.toggle(at, people[username], post.id, "like")
        for username in spec.bookmarked_by:
            await posts.toggle(at, people[username], post.id, "bookmark")
        for username in spec.reposted_by:
            clock.advance(timedelta(minutes=1))
            await posts.toggle(at, people[username], post.id, "repost")


@dataclass(frozen=True)
class Contents:
    """What is in the database already, and what ``--reset`` would delete."""

    accounts: int  # every account, the demo's and anyone else's
    demo_accounts: int  # the demo's own (DEMO_USERNAMES)
    demo_drops: int
    demo_posts: int


async def contents(settings: Settings) -> Contents:
    engine = make_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            demo_ids = select(Account.id).where(Account.username.in_(DEMO_USERNAMES))
            accounts = await conn.scalar(select(func.count()).select_from(Account))
            demo_accounts = await conn.scalar(
                select(func.count()).where(Account.username.in_(DEMO_USERNAMES))
            )
            demo_drops = await conn.scalar(
                select(func.count()).select_from(Drop).where(Drop.brand_id.in_(demo_ids))
            )
            demo_posts = await conn.scalar(
                select(func.count())
                .select_from(Post)
                .where(Post.author_id.in_(demo_ids), Post.deleted_at.is_(None))
            )
    finally:
        await engine.dispose()
    return Contents(accounts or 0, demo_accounts or 0, demo_drops or 0, demo_posts or 0)


async def load(settings: Settings, console: Console, *, reset: bool = False) -> None:
    """Create the demo. With ``reset``, the demo's accounts and everything of theirs (drops,
    posts, reminders, likes, sessions) are deleted first; other accounts stay.

    Loading into a database that already has accounts is the caller's choice
    (``dropbell demo`` only does it with ``--reset``).
    """
    now = datetime.now(UTC)
    # Start three hours ago so the drop that is already live was announced, reminded
    # and delivered the way it would have been; then walk the clock to now.
    clock = FakeClock(now - timedelta(hours=3))
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    try:
        async with transaction(sessions) as session:
            if reset:
                await _remove_previous(session)
            # What each step of the load works in: one transaction, on the demo's clock.
            loading = Context(session, clock, settings)
            people = await _add_people(loading)
            created = await _add_drops(loading, people, now)
            await _add_reminders(loading, people, created)
        # Walk the clock to now: the live drop's notices are delivered as they were due.
        scheduler = Scheduler(sessions, clock, settings, worker_id="demo")
        while clock.now() < now:
            clock.advance(min(timedelta(minutes=1), now - clock.now()))
            await scheduler.run_due()
        async with transaction(sessions) as session:
            await _add_posts(Context(session, clock, settings), now)
    finally:
        await engine.dispose()
    _show(console, now)


def _signup(username: str, name: str, country: str, language: str, tz: str) -> AccountCreate:
    return AccountCreate(
        username=username,
        password=PASSWORD,
        display_name=name,
        country=country,
        language=language,
        timezone=tz,
    )


async def _add_people(loading: Context) -> dict[str, Account]:
    """The brands (approved partners), the shoppers, and Maison Aurelle's followers."""
    session = loading.session
    people: dict[str, Account] = {}
    for brand in BRANDS:
        people[brand.username] = await accounts.create_account(
            loading,
            _signup(brand.username, brand.display_name, "US", "en", "America/New_York"),
        )
        await accounts.approve_partner(session, brand.username, [brand.domain])
    for username, name, country, language, tz in SHOPPERS:
        people[username] = await accounts.create_account(
            loading, _signup(username, name, country, language, tz)
        )
    for username in FOLLOWERS:  # before Maison Aurelle announces: they hear of it
        fan = Viewer(account=people[username], platform="ios", token_id=0)
        await brands.follow(loading, fan, people[BRANDS[0].username].id)
    return people


async def _add_drops(loading: Context, people: dict[str, Account], now: datetime) -> list[Drop]:
    """Each brand announces its drops, with the demo's own pictures."""
    session = loading.session
    domains = {b.username: b.domain for b in BRANDS}
    created = []
    for spec in DROPS:
        owner = await accounts.get_account(session, people[spec.brand].id)
        drop = await drops.create_drop(
            loading,
            Viewer(account=owner, platform="web", token_id=0),
            DropCreate(
                title=spec.title,
                description=spec.description,
                price=Decimal(spec.price),
                currency="USD",
                launch_at=now + spec.launch_in,
                shop_url=f"https://{domains[spec.brand]}{spec.path}",
                tag=spec.tag,
            ),
        )
        # The demo's own pictures, shipped with dropbell: brands may only link
        # images on other hosts (drops.service.check_image_url).
        drop.image_url = f"/static/demo/{spec.image}.svg"
        drop.image_alt = IMAGE_ALT[spec.image]
        created.append(drop)
    return created


async def _add_reminders(loading: Context, people: dict[str, Account], created: list[Drop]) -> None:
    """The US shoppers who read English remind on the drops, fewer on each in turn, with
    the leads of :data:`LEADS` in turn."""
    clock, settings = loading.clock, loading.settings
    eligible = [u for u, _, c, lang, _ in SHOPPERS if c == "US" and lang == "en"]
    conn = await loading.session.connection()
    for i, drop in enumerate(created):
        for j, username in enumerate(eligible[: len(eligible) - i % 3]):
            viewer = Viewer(account=people[username], platform="ios", token_id=0)
            leads = _leads(settings, LEADS[(i + j) % len(LEADS)])
            await hotpath.remind(conn, clock, settings, viewer.caller, drop.id, leads)


def _show(console: Console, now: datetime) -> None:
    """The drops and when they launch, and the logins."""
    table = Table("drop", "brand", "launch (UTC)", title="dropbell demo", show_lines=False)
    for spec in DROPS:
        live = " (live)" if spec.launch_in < timedelta(0) else ""
        table.add_row(spec.title, spec.brand, f"{now + spec.launch_in:%Y-%m-%d %H:%M}{live}")
    console.print(table)
    console.print(
        f"Shopper login: [bold]{SHOPPER}[/] / [bold]{PASSWORD}[/]"
        f" · brand login: [bold]{BRANDS[0].username}[/] / [bold]{PASSWORD}[/]"
        f" (the shopper follows it: /@{BRANDS[0].username})"
    )
