"""Accounts, tokens and partner approval. Services flush; callers commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from dropbell import errors, hostnames
from dropbell.accounts import security
from dropbell.accounts.models import AccessToken, Account, ShopDomain
from dropbell.accounts.schemas import AccountCreate, AccountOut, PasswordChange, ProfileUpdate
from dropbell.confusables import name_skeletons
from dropbell.context import Context
from dropbell.db import UTCDateTime
from dropbell.live import publish
from dropbell.search import index as search_index


@dataclass(frozen=True)
class Caller:
    """Who is asking: the identity every rule below the endpoints looks at (the rollout,
    the rate limits, Remind me): the account, the client app its token was issued to, and
    the account's country and language. Remind me reads it with one Core query and no ORM
    session (:func:`caller_for_token`); anywhere else it is :attr:`Viewer.caller`."""

    account_id: int
    platform: str
    country: str
    language: str
    token_id: int


@dataclass(frozen=True)
class Viewer:
    """A :class:`Caller` whose account is loaded in the request's ORM session, for the
    endpoints and pages that change or show the account itself."""

    account: Account
    platform: str
    token_id: int

    @property
    def caller(self) -> Caller:
        """Who is asking, read off the account as it is now (a profile change in this
        request shows)."""
        account = self.account
        return Caller(account.id, self.platform, account.country, account.language, self.token_id)


def caller_of(viewer: Viewer | None) -> Caller | None:
    """The identity of ``viewer`` (None: nobody logged in)."""
    return viewer.caller if viewer is not None else None


async def create_account(ctx: Context, data: AccountCreate) -> Account:
    display_name = data.display_name or data.username
    await check_display_name(ctx.session, display_name)
    account = Account(
        username=data.username,
        password_hash=security.hash_password(data.password),
        display_name=display_name,
        country=data.country,
        language=data.language,
        timezone=data.timezone,
        is_partner=False,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(account)
    try:
        async with ctx.session.begin_nested():
            await ctx.session.flush()
    except IntegrityError:
        raise errors.UsernameTaken() from None
    return await get_account(ctx.session, account.id)


# Marks that look like the verified mark the web app puts beside a partner's name.
_BADGE_LOOKALIKES = frozenset("\u2713\u2714\u2611\u2705\u221a\U0001f5f8\U0001f5f9")


async def check_display_name(
    session: AsyncSession, display_name: str, account_id: int | None = None
) -> None:
    """422 unless ``display_name`` is free to take: no check marks, and nothing that looks
    like a partner's display name or username (TR39 skeletons of the letters and digits;
    ``account_id``'s own names excepted)."""
    if any(ch in _BADGE_LOOKALIKES for ch in display_name):
        raise errors.Invalid(
            "display_name cannot contain check marks: the verified mark is dropbell's own."
        )
    keys = [key for key in name_skeletons(display_name) if key]
    if not keys:
        return
    query = select(Account.display_name).where(
        Account.is_partner.is_(True),
        or_(
            Account.name_skeleton.in_(keys),
            Account.name_skeleton_cased.in_(keys),
            Account.username_skeleton.in_(keys),
        ),
    )
    if account_id is not None:
        query = query.where(Account.id != account_id)
    partner = await session.scalar(query.limit(1))
    if partner is not None:
        raise errors.Invalid(
            f"display_name looks like {partner}, a partner brand's name; choose another."
        )


def _protect_names(account: Account) -> None:
    """Keep a partner's names' skeletons (nobody may look like them), and nobody else's."""
    if account.is_partner:
        account.name_skeleton, account.name_skeleton_cased = name_skeletons(account.display_name)
        account.username_skeleton = name_skeletons(account.username)[0]
    else:
        account.name_skeleton = account.name_skeleton_cased = account.username_skeleton = None


async def get_account(session: AsyncSession, account_id: int) -> Account:
    account = await session.scalar(
        select(Account).where(Account.id == account_id).options(selectinload(Account.shop_domains))
    )
    if account is None:
        raise errors.NotFound("No such account.")
    return account


async def get_by_username(session: AsyncSession, username: str) -> Account | None:
    return await session.scalar(
        select(Account)
        .where(Account.username == username.lower())
        .options(selectinload(Account.shop_domains))
    )


async def issue_token(
    ctx: Context, username: str, password: str, platform: str
) -> tuple[str, Account]:
    """Check the password and return a new bearer token (shown once; stored hashed)."""
    account = await get_by_username(ctx.session, username)
    if not security.verify_password(account.password_hash if account else None, password):
        raise errors.Unauthorized("Wrong username or password.")
    assert account is not None
    token = security.new_token()
    ctx.session.add(
        AccessToken(
            account_id=account.id,
            token_hash=security.token_digest(token),
            platform=platform,
            created_at=ctx.clock.now(),
            last_used_at=ctx.clock.now(),
        )
    )
    await ctx.session.flush()
    return token, account


# A token's last use is written at most this often (one UPDATE an hour per token, not
# one per request); it is what DROPBELL_TOKEN_IDLE_DAYS counts from.
TOKEN_TOUCH_SECONDS = 3600

_tokens, _accounts = cast(Table, AccessToken.__table__), cast(Table, Account.__table__)
_last_used = func.coalesce(_tokens.c.last_used_at, _tokens.c.created_at)
_live_token = (
    (_tokens.c.token_hash == bindparam("token_hash"))
    & _tokens.c.revoked_at.is_(None)
    & (_last_used > bindparam("idle_cutoff", type_=UTCDateTime()))
)

# Built once: it runs on every authenticated request, and building a statement (and its
# cache key) costs more than running it.
_BY_TOKEN = (
    select(AccessToken, Account, _last_used)
    .join(Account, Account.id == AccessToken.account_id)
    .where(_live_token)
)

_CALLER_BY_TOKEN = (
    select(
        _tokens.c.account_id,
        _tokens.c.platform,
        _accounts.c.country,
        _accounts.c.language,
        _tokens.c.id,
        _last_used,
    )
    .join(_accounts, _accounts.c.id == _tokens.c.account_id)
    .where(_live_token)
)

# ONE statement, so it is safe on a GET's read session (each statement commits alone).
_TOUCH = (
    update(_tokens)
    .where(_tokens.c.id == bindparam("token_id"))
    .values(last_used_at=bindparam("now", type_=UTCDateTime()))
)


def _token_params(token: str, now: datetime, idle: timedelta) -> dict[str, object]:
    return {"token_hash": security.token_digest(token), "idle_cutoff": now - idle}


def _due_for_touch(last_used: datetime, now: datetime) -> bool:
    return (now - last_used).total_seconds() >= TOKEN_TOUCH_SECONDS


async def caller_for_token(
    conn: AsyncConnection, token: str, now: datetime, idle: timedelta
) -> Caller | None:
    """Who holds ``token`` (None if it is unknown, revoked or idle too long), for the hot
    path; notes its use at most once an hour (one more statement then)."""
    row = (await conn.execute(_CALLER_BY_TOKEN, _token_params(token, now, idle))).first()
    if row is None:
        return None
    if _due_for_touch(row[5], now):
        await conn.execute(_TOUCH, {"token_id": row[4], "now": now})
    return Caller(row[0], row[1], row[2], row[3], row[4])


async def viewer_for_token(
    session: AsyncSession, token: str, now: datetime, idle: timedelta
) -> Viewer | None:
    """Who holds ``token`` (None if it is unknown, revoked, or unused for ``idle``).

    Its use is noted at most once an hour (TOKEN_TOUCH_SECONDS), by one UPDATE.

    A partner's shop domains come with it (creating and editing drops checks shop links
    against them); everyone else has none, so the shopper's hot path (Remind me) does
    not pay a query for them.
    """
    row = (await session.execute(_BY_TOKEN, _token_params(token, now, idle))).first()
    if row is None:
        return None
    token_row, account, last_used = row
    if _due_for_touch(last_used, now):
        await session.execute(_TOUCH, {"token_id": token_row.id, "now": now})
    domains = (
        list(
            await session.scalars(
                select(ShopDomain)
                .where(ShopDomain.account_id == account.id)
                .order_by(ShopDomain.domain)
            )
        )
        if account.is_partner
        else []  # remove_partner clears them: only partners have shop domains
    )
    set_committed_value(account, "shop_domains", domains)
    return Viewer(account=account, platform=token_row.platform, token_id=token_row.id)


async def revoke_token(ctx: Context, token_id: int) -> None:
    """Log out: the token stops working, and its open live streams end after commit."""
    account_id = await ctx.session.scalar(
        update(AccessToken)
        .where(AccessToken.id == token_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=ctx.clock.now())
        .returning(AccessToken.account_id)
    )
    if account_id is not None:
        publish.sessions_revoked(ctx.session, account_id, [token_id])


async def revoke_all(ctx: Context, account_id: int) -> int:
    """Log out everywhere: every token and web session of the account stops working, and
    their open live streams end after commit. Returns how many were revoked."""
    revoked = list(
        await ctx.session.scalars(
            update(AccessToken)
            .where(AccessToken.account_id == account_id, AccessToken.revoked_at.is_(None))
            .values(revoked_at=ctx.clock.now())
            .returning(AccessToken.id)
        )
    )
    publish.sessions_revoked(ctx.session, account_id)
    return len(revoked)


async def change_password(ctx: Context, viewer: Viewer, data: PasswordChange) -> int:
    """A new password (the current one must be right); every other session of the account
    is revoked (this one stays). Returns how many were revoked."""
    account = await get_account(ctx.session, viewer.account.id)
    if not security.verify_password(account.password_hash, data.current_password):
        raise errors.WrongPassword()
    problem = security.password_problem(data.new_password, account.username)
    if problem is not None:
        raise errors.Invalid(f"new_password {problem}.")
    account.password_hash = security.hash_password(data.new_password)
    await ctx.session.flush()
    others = list(
        await ctx.session.scalars(
            update(AccessToken)
            .where(
                AccessToken.account_id == account.id,
                AccessToken.id != viewer.token_id,
                AccessToken.revoked_at.is_(None),
            )
            .values(revoked_at=ctx.clock.now())
            .returning(AccessToken.id)
        )
    )
    publish.sessions_revoked(ctx.session, account.id, others)
    return len(others)


async def update_profile(session: AsyncSession, viewer: Viewer, data: ProfileUpdate) -> Account:
    """Change the viewer's display name, country, language and time zone."""
    account = await get_account(session, viewer.account.id)
    if data.display_name != account.display_name:
        await check_display_name(session, data.display_name, account.id)
    account.display_name = data.display_name
    _protect_names(account)
    account.country = data.country
    account.language = data.language
    account.timezone = data.timezone
    await session.flush()
    await search_index.index_account(session, account)
    return account


async def set_language(session: AsyncSession, viewer: Viewer, language: str) -> None:
    """The viewer's language (the web app's, and their notifications'): the switcher's."""
    account = await get_account(session, viewer.account.id)
    account.language = language
    await session.flush()


async def approve_partner(session: AsyncSession, username: str, domains: list[str]) -> Account:
    """Make ``username`` a partner brand and add ``domains`` to its approved shop domains."""
    account = await get_by_username(session, username)
    if account is None:
        raise errors.NotFound(f"No account named {username!r}.")
    account.is_partner = True
    _protect_names(account)
    have = {d.domain for d in account.shop_domains}
    for domain in domains:
        domain = normalise_domain(domain)
        if domain not in have:
            account.shop_domains.append(ShopDomain(domain=domain))
            have.add(domain)
    await session.flush()
    await search_index.index_account(session, account)
    return account


async def remove_partner(session: AsyncSession, username: str) -> Account:
    account = await get_by_username(session, username)
    if account is None:
        raise errors.NotFound(f"No account named {username!r}.")
    account.is_partner = False
    _protect_names(account)
    account.shop_domains.clear()
    await session.flush()
    await search_index.index_account(session, account)
    return account


def normalise_domain(domain: str) -> str:
    domain = domain.strip().lower().rstrip(".")
    if domain.startswith(("http://", "https://")) or "/" in domain or not domain:
        raise errors.Invalid(f"{domain!r} is not a bare domain name such as example.com.")
    try:
        return hostnames.to_ascii(domain)
    except UnicodeError:
        raise errors.Invalid(f"{domain!r} is not a valid domain name.") from None


def present(account: Account) -> AccountOut:
    return AccountOut(
        id=account.id,
        username=account.username,
        display_name=account.display_name,
        country=account.country,
        language=account.language,
        timezone=account.timezone,
        is_partner=account.is_partner,
        shop_domains=[d.domain for d in account.shop_domains],
    )
