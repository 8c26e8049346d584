"""Accounts, tokens and partner approval. Services flush; callers commit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from dropbell import errors
from dropbell.accounts import security
from dropbell.accounts.models import AccessToken, Account, ShopDomain
from dropbell.accounts.schemas import AccountCreate, AccountOut, ProfileUpdate
from dropbell.clock import Clock
from dropbell.live import publish


@dataclass(frozen=True)
class Viewer:
    """Who is asking: the account and the client app their token was issued to."""

    account: Account
    platform: str
    token_id: int

    @property
    def caller(self) -> Caller:
        return Caller(
            account_id=self.account.id,
            platform=self.platform,
            country=self.account.country,
            language=self.account.language,
        )


@dataclass(frozen=True)
class Caller:
    """Who is asking, in brief: what Remind me needs of the caller (the account and what the
    rollout rules look at), read with one Core query and no ORM session."""

    account_id: int
    platform: str
    country: str
    language: str


async def create_account(session: AsyncSession, clock: Clock, data: AccountCreate) -> Account:
    account = Account(
        username=data.username,
        password_hash=security.hash_password(data.password),
        display_name=data.display_name or data.username,
        country=data.country,
        language=data.language,
        timezone=data.timezone,
        is_partner=False,
        created_at=clock.now(),
    )
    session.add(account)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise errors.UsernameTaken() from None
    return await get_account(session, account.id)


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
    session: AsyncSession, clock: Clock, username: str, password: str, platform: str
) -> tuple[str, Account]:
    """Check the password and return a new bearer token (shown once; stored hashed)."""
    account = await get_by_username(session, username)
    if not security.verify_password(account.password_hash if account else None, password):
        raise errors.Unauthorized("Wrong username or password.")
    assert account is not None
    token = security.new_token()
    session.add(
        AccessToken(
            account_id=account.id,
            token_hash=security.token_digest(token),
            platform=platform,
            created_at=clock.now(),
        )
    )
    await session.flush()
    return token, account


# Built once: it runs on every authenticated request, and building a statement (and its
# cache key) costs more than running it.
_BY_TOKEN = (
    select(AccessToken, Account)
    .join(Account, Account.id == AccessToken.account_id)
    .where(AccessToken.token_hash == bindparam("token_hash"), AccessToken.revoked_at.is_(None))
)


_tokens, _accounts = AccessToken.__table__, Account.__table__
_CALLER_BY_TOKEN = (
    select(_tokens.c.account_id, _tokens.c.platform, _accounts.c.country, _accounts.c.language)
    .join(_accounts, _accounts.c.id == _tokens.c.account_id)
    .where(_tokens.c.token_hash == bindparam("token_hash"), _tokens.c.revoked_at.is_(None))
)


async def caller_for_token(conn: AsyncConnection, token: str) -> Caller | None:
    """Who holds ``token`` (None if it is unknown or revoked), for the hot path."""
    row = (
        await conn.execute(_CALLER_BY_TOKEN, {"token_hash": security.token_digest(token)})
    ).first()
    return None if row is None else Caller(*row)


async def viewer_for_token(session: AsyncSession, token: str) -> Viewer | None:
    """Who holds ``token`` (None if it is unknown or revoked).

    A partner's shop domains come with it (creating and editing drops checks shop links
    against them); everyone else has none, so the shopper's hot path (Remind me) does
    not pay a query for them.
    """
    digest = security.token_digest(token)
    row = (await session.execute(_BY_TOKEN, {"token_hash": digest})).first()
    if row is None:
        return None
    token_row, account = row
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


async def revoke_token(session: AsyncSession, clock: Clock, token_id: int) -> None:
    """Log out: the token stops working, and its open live streams end after commit."""
    account_id = await session.scalar(
        update(AccessToken)
        .where(AccessToken.id == token_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
        .returning(AccessToken.account_id)
    )
    if account_id is not None:
        publish.sessions_revoked(session, account_id, [token_id])


async def update_profile(session: AsyncSession, viewer: Viewer, data: ProfileUpdate) -> Account:
    """Change the viewer's display name, country, language and time zone."""
    account = await get_account(session, viewer.account.id)
    account.display_name = data.display_name
    account.country = data.country
    account.language = data.language
    account.timezone = data.timezone
    await session.flush()
    return account


async def set_platform(session: AsyncSession, viewer: Viewer, platform: str) -> None:
    """Say which app this session is (ios, android, web): the rollout follows the client app."""
    await session.execute(
        update(AccessToken).where(AccessToken.id == viewer.token_id).values(platform=platform)
    )


async def approve_partner(session: AsyncSession, username: str, domains: list[str]) -> Account:
    """Make ``username`` a partner brand and add ``domains`` to its approved shop domains."""
    account = await get_by_username(session, username)
    if account is None:
        raise errors.NotFound(f"No account named {username!r}.")
    account.is_partner = True
    have = {d.domain for d in account.shop_domains}
    for domain in domains:
        domain = normalise_domain(domain)
        if domain not in have:
            account.shop_domains.append(ShopDomain(domain=domain))
            have.add(domain)
    await session.flush()
    return account


async def remove_partner(session: AsyncSession, username: str) -> Account:
    account = await get_by_username(session, username)
    if account is None:
        raise errors.NotFound(f"No account named {username!r}.")
    account.is_partner = False
    account.shop_domains.clear()
    await session.flush()
    return account


def normalise_domain(domain: str) -> str:
    domain = domain.strip().lower().rstrip(".")
    if domain.startswith(("http://", "https://")) or "/" in domain or not domain:
        raise errors.Invalid(f"{domain!r} is not a bare domain name such as example.com.")
    try:
        return domain.encode("idna").decode("ascii")
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
