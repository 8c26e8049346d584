"""Believable demo data: partner brands, drops at several distances, shoppers with reminders
(and a brand they follow), and posts about the drops (with likes, reposts and bookmarks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from rich.console import Console
from rich.table import Table
from sqlalchemy import delete, func, or_, select

from dropbell.accounts import service as accounts
from dropbell.accounts.models import Account
from dropbell.accounts.schemas import AccountCreate
from dropbell.accounts.service import Viewer
from dropbell.brands import service as brands
from dropbell.clock import FakeClock
from dropbell.config import Settings
from dropbell.db import make_engine, make_sessionmaker, transaction
from dropbell.drops import service as drops
from dropbell.drops.models import Drop
from dropbell.drops.schemas import DropCreate
from dropbell.notifications.models import DropOpen, NoticeRead, Notification
from dropbell.posts import service as posts
from dropbell.posts.models import Post
from dropbell.posts.schemas import PostCreate
from dropbell.reminders import service as reminders
from dropbell.reminders.scheduler import Scheduler
from dropbell.search import index as search_index

PASSWORD = "dropbell-demo"
SHOPPER = "shopper"
FOLLOWERS = (SHOPPER, "jordan", "priya")  # of Maison Aurelle (/@maison_aurelle)


@dataclass(frozen=True)
class Brand:
    username: str
    display_name: str
    domain: str


BRANDS = (
    Brand("maison_aurelle", "Maison Aurelle", "aurelle.example"),
    Brand("union_grid", "Union Grid", "uniongrid.example"),
    Brand("brickhaus", "Brickhaus", "brickhaus.example"),
)

SHOPPERS = (
    # username, display name, country, language, time zone
    (SHOPPER, "Maya Chen", "US", "en", "America/Los_Angeles"),
    ("jordan", "Jordan Ellis", "US", "en", "America/New_York"),
    ("priya", "Priya Raman", "US", "en", "America/Chicago"),
    ("sam", "Sam Okafor", "US", "en", "America/Denver"),
    ("lena", "Lena Fischer", "DE", "de", "Europe/Berlin"),
    ("tomas", "Tomás Ruiz", "US", "es", "America/Phoenix"),
    ("aiko", "Aiko Tanaka", "JP", "ja", "Asia/Tokyo"),
    ("noah", "Noah Williams", "US", "en", "America/New_York"),
)


@dataclass(frozen=True)
class DemoDrop:
    brand: str
    title: str
    description: str
    price: str
    tag: str
    image: str
    launch_in: timedelta
    path: str


# What each demo picture shows: the alt text a brand writes for its drop's image.
IMAGE_ALT = {
    "bag": "A quilted leather handbag",
    "bricks": "A stack of toy bricks",
    "jacket": "A varsity jacket",
    "perfume": "A faceted perfume bottle",
    "sneaker": "A white and red sneaker",
}

DROPS = (
    DemoDrop(
        "union_grid",
        "Varsity Jacket '26",
        "Boiled wool body, cowhide sleeves, chenille U. 300 pieces, numbered.",
        "420.00",
        "UnionVarsity26",
        "jacket",
        timedelta(minutes=4),
        "/products/varsity-26",
    ),
    DemoDrop(
        "maison_aurelle",
        "Le Sac Matelassé",
        "The quilted lambskin bag in midnight black with an antique-gold clasp.",
        "3900.00",
        "AurelleMatelasse",
        "bag",
        timedelta(minutes=20),
        "/maroquinerie/sac-matelasse",
    ),
    DemoDrop(
        "brickhaus",
        "Skyline Bricks: Night Market",
        "2,481 pieces, 14 minifigures, lights that glow in the dark.",
        "179.99",
        "NightMarketBricks",
        "bricks",
        timedelta(hours=1),
        "/sets/night-market",
    ),
    DemoDrop(
        "maison_aurelle",
        "Eau de Nuit, édition limitée",
        "A faceted flacon of our night fragrance, signed by the perfumer.",
        "260.00",
        "EauDeNuit",
        "perfume",
        timedelta(days=3),
        "/parfums/eau-de-nuit",
    ),
    DemoDrop(
        "union_grid",
        "UG Court Low 'Signal Red'",
        "Tumbled leather court shoe with a signal-red sole. Sizes 5 to 14.",
        "160.00",
        "CourtLowSignal",
        "sneaker",
        timedelta(hours=-2),
        "/footwear/court-low-signal",
    ),
)


@dataclass(frozen=True)
class DemoPost:
    author: str
    text: str
    ago: timedelta
    liked_by: tuple[str, ...] = ()
    reposted_by: tuple[str, ...] = ()
    bookmarked_by: tuple[str, ...] = ()
    repost_of_drop: str = ""  # a repost of this drop's announcement instead of a post (no text)


# Oldest first (ids follow time, as they do in real life).
POSTS = (
    DemoPost(
        "noah",
        "Copped the #CourtLowSignal in an 11. That red sole is louder in person 🔥",
        timedelta(minutes=100),
        liked_by=("jordan", "priya", "sam"),
        reposted_by=("jordan",),
    ),
    DemoPost(
        "brickhaus",
        "The lanterns on the night market stalls glow for hours after lights-out. "
        "14 minifigures, one very busy noodle chef. #NightMarketBricks",
        timedelta(minutes=75),
        liked_by=("shopper", "sam", "noah"),
        reposted_by=("sam",),
        bookmarked_by=("shopper",),
    ),
    DemoPost(
        "priya",
        "Is anyone else setting three alarms for #AurelleMatelasse or is it just me",
        timedelta(minutes=50),
        liked_by=("shopper", "noah"),
    ),
    DemoPost(
        "maison_aurelle",
        "Each Matelassé is quilted by hand in our atelier: 40 hours, 1,200 stitches. "
        "See you at the launch. #AurelleMatelasse",
        timedelta(minutes=35),
        liked_by=("priya", "shopper", "jordan", "sam"),
        reposted_by=("priya",),
        bookmarked_by=("priya",),
    ),
    DemoPost("noah", "", timedelta(minutes=28), repost_of_drop="NightMarketBricks"),
    DemoPost(
        "jordan",
        "Size advice for #UnionVarsity26? I'm between an M and an L and the sleeves look long.",
        timedelta(minutes=22),
        liked_by=("sam",),
    ),
    DemoPost(
        "union_grid",
        "Fits true to size, sleeves are cut long on purpose. 300 numbered pieces, no restock. "
        "#UnionVarsity26",
        timedelta(minutes=12),
        liked_by=("jordan", "noah", "shopper"),
        reposted_by=("noah",),
    ),
    DemoPost("jordan", "", timedelta(minutes=8), repost_of_drop="UnionVarsity26"),
    DemoPost(
        "sam",
        "Reminder set for #UnionVarsity26 and #NightMarketBricks. Wallet, I'm sorry.",
        timedelta(minutes=5),
        liked_by=("priya",),
        bookmarked_by=("shopper",),
    ),
)

DEMO_USERNAMES = [b.username for b in BRANDS] + [s[0] for s in SHOPPERS]

# The leads shoppers choose, in turn: a day and 15 minutes before, an hour before, the
# default lead (None). Each with the launch notice.
LEADS: tuple[list[int] | None, ...] = ([86400, 900], [3600], None)


def _leads(settings: Settings, leads: list[int] | None) -> list[int] | None:
    """Only what this operator's menu offers (DROPBELL_REMINDER_OFFSETS may differ)."""
    if leads is None:
        return None
    return [lead for lead in leads if lead in settings.allowed_offsets] or None


async def _remove_previous(session) -> None:  # type: ignore[no-untyped-def]
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


async def _add_posts(session, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """Shoppers and brands talk about the drops; the others like, repost and bookmark."""
    rows = await session.scalars(select(Account).where(Account.username.in_(DEMO_USERNAMES)))
    people = {a.username: Viewer(account=a, platform="ios", token_id=0) for a in rows}
    drop_posts = {d.tag: d.post_id for d in await session.scalars(select(Drop))}
    for spec in POSTS:
        at = FakeClock(now - spec.ago)
        if spec.repost_of_drop:
            announcement = drop_posts[spec.repost_of_drop.casefold()]
            await posts.repost(session, at, people[spec.author], announcement)
            await posts.like(session, at, people[spec.author], announcement)
            continue
        post = await posts.create_post(session, at, people[spec.author], PostCreate(text=spec.text))
        for i, username in enumerate(spec.liked_by):
            at.advance(timedelta(seconds=40 + 20 * i))
            await posts.like(session, at, people[username], post.id)
        for username in spec.bookmarked_by:
            await posts.bookmark(session, at, people[username], post.id)
        for username in spec.reposted_by:
            at.advance(timedelta(minutes=1))
            await posts.repost(session, at, people[username], post.id)


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
            people: dict[str, Account] = {}
            for brand in BRANDS:
                people[brand.username] = await accounts.create_account(
                    session,
                    clock,
                    AccountCreate(
                        username=brand.username,
                        password=PASSWORD,
                        display_name=brand.display_name,
                        country="US",
                        language="en",
                        timezone="America/New_York",
                    ),
                )
                await accounts.approve_partner(session, brand.username, [brand.domain])
            for username, name, country, language, tz in SHOPPERS:
                people[username] = await accounts.create_account(
                    session,
                    clock,
                    AccountCreate(
                        username=username,
                        password=PASSWORD,
                        display_name=name,
                        country=country,
                        language=language,
                        timezone=tz,
                    ),
                )
            for username in FOLLOWERS:  # before Maison Aurelle announces: they hear of it
                fan = Viewer(account=people[username], platform="ios", token_id=0)
                await brands.follow(session, clock, fan, people[BRANDS[0].username].id)
            domains = {b.username: b.domain for b in BRANDS}
            created = []
            for spec in DROPS:
                owner = await accounts.get_account(session, people[spec.brand].id)
                launch = now + spec.launch_in
                drop = await drops.create_drop(
                    session,
                    clock,
                    settings,
                    Viewer(account=owner, platform="web", token_id=0),
                    DropCreate(
                        title=spec.title,
                        description=spec.description,
                        price=Decimal(spec.price),
                        currency="USD",
                        launch_at=launch,
                        shop_url=f"https://{domains[spec.brand]}{spec.path}",
                        tag=spec.tag,
                    ),
                )
                # The demo's own pictures, shipped with dropbell: brands may only link
                # images on other hosts (drops.service.check_image_url).
                drop.image_url = f"/static/demo/{spec.image}.svg"
                drop.image_alt = IMAGE_ALT[spec.image]
                created.append(drop)
            eligible = [u for u, _, c, lang, _ in SHOPPERS if c == "US" and lang == "en"]
            conn = await session.connection()
            for i, drop in enumerate(created):
                for j, username in enumerate(eligible[: len(eligible) - i % 3]):
                    viewer = Viewer(account=people[username], platform="ios", token_id=0)
                    leads = _leads(settings, LEADS[(i + j) % len(LEADS)])
                    await reminders.remind(conn, clock, settings, viewer.caller, drop.id, leads)
        # Walk the clock to now: the live drop's notices are delivered as they were due.
        scheduler = Scheduler(sessions, clock, settings, worker_id="demo")
        while clock.now() < now:
            clock.advance(min(timedelta(minutes=1), now - clock.now()))
            await scheduler.run_due()
        async with transaction(sessions) as session:
            await _add_posts(session, now)
    finally:
        await engine.dispose()

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
