"""Search: drops, posts, partner brands and hashtags for a query, Unicode-aware.

The query and the index are folded alike (``search.text``: case, accents, Arabic
diacritics, tatweel and letter variants), so ``cafe`` finds "Café" and ``قهوة`` finds
"قَهْوَة". Words are looked up in the database's full-text index (``search.fts``);
hashtags by the start of their plain form in ``hashtags``. Each list is limited, and
each is a bounded index lookup plus the usual presenters' fixed number of queries.

Ranking: what carries the query as its exact tag comes first (the drop that owns the
tag, the posts tagged with it, the tag itself), then the newest (drops, posts) or the
most used (hashtags).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import ColumnElement, and_, case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dropbell import dialect, errors
from dropbell.accounts.models import Account
from dropbell.accounts.schemas import BrandOut
from dropbell.accounts.service import Viewer
from dropbell.context import Context
from dropbell.drops import service as drops
from dropbell.drops.models import Drop
from dropbell.posts import presenter as post_presenter
from dropbell.posts.models import Post, PostTag
from dropbell.posts.tags import normalise_tag
from dropbell.search import fts
from dropbell.search.models import Hashtag, PostSearch
from dropbell.search.schemas import MAX_QUERY_LENGTH, HashtagOut, SearchOut
from dropbell.search.text import fold, query_words


@dataclass(frozen=True)
class Query:
    words: list[str]  # the plain words, for the full-text index
    tag: str | None  # the query as a hashtag (normal form), if it is one word
    username: str  # the query as a username would be written (lower case, no '@')


def parse(q: str) -> Query:
    """The query, or 422 ``invalid`` if it is empty, too long or has no letter or digit."""
    q = q.strip()
    if not q:
        raise errors.Invalid("q: type something to search for.")
    if len(q) > MAX_QUERY_LENGTH:
        raise errors.Invalid(f"q: search for at most {MAX_QUERY_LENGTH} characters.")
    found = query_words(q)
    if not found:
        raise errors.Invalid("q: search for a word (letters or digits).")
    try:
        tag: str | None = normalise_tag(q)
    except ValueError:
        tag = None
    return Query(words=found, tag=tag, username=q.removeprefix("@").lower())


async def search(ctx: Context, viewer: Viewer | None, q: str, limit: int) -> SearchOut:
    """What ``q`` finds, as ``viewer`` sees it: at most ``limit`` of each kind."""
    query = parse(q)
    drop_rows = await _drops(ctx.session, query, limit)
    post_rows = await _posts(ctx.session, query, limit)
    return SearchOut(
        drops=await drops.present(ctx, drop_rows, viewer),
        posts=await post_presenter.present(ctx, post_rows, viewer),
        accounts=await _accounts(ctx.session, query, limit),
        hashtags=await _hashtags(ctx, query, limit),
    )


def _ranked(first: list[int], rest: list[int], limit: int) -> list[int]:
    return list(dict.fromkeys(first + rest))[:limit]


async def _drops(session: AsyncSession, query: Query, limit: int) -> list[Drop]:
    """The drop whose tag is the query, then the newest with every word (one query for
    the words, one that loads them and the tag's owner)."""
    matched = await fts.matching(session, "drop_search", query.words, limit)
    wanted: ColumnElement[bool] = Drop.id.in_(matched)
    if query.tag is not None:
        wanted = or_(wanted, and_(Drop.tag == query.tag, Drop.cancelled_at.is_(None)))
    rows = list(await session.scalars(select(Drop).where(wanted))) if matched or query.tag else []
    exact = [d.id for d in rows if d.tag == query.tag]
    found = {d.id: d for d in rows}
    return [found[i] for i in _ranked(exact, matched, limit) if i in found]


async def _posts(session: AsyncSession, query: Query, limit: int) -> list[Post]:
    """Posts tagged with the query, newest first, then the newest with every word."""
    tagged: list[int] = []
    if query.tag is not None:
        carrying = (
            select(PostTag.post_id)
            .join(PostSearch, PostSearch.post_id == PostTag.post_id)
            .where(PostTag.tag == query.tag)
            .order_by(PostTag.post_id.desc())
            .limit(limit)
        )
        tagged = list(await session.scalars(carrying))
    ids = _ranked(tagged, await fts.matching(session, "post_search", query.words, limit), limit)
    found = {p.id: p for p in await post_presenter.load(session, ids)}
    return [found[i] for i in ids if i in found]


async def _accounts(session: AsyncSession, query: Query, limit: int) -> list[BrandOut]:
    """Partner brands: the one with the query as its username, then by their words (the
    last word of the query may be the start of one: ``maison aur``)."""
    matched = await fts.matching(session, "account_search", query.words, limit, prefix=True)
    rows = await session.scalars(
        select(Account).where(
            or_(Account.id.in_(matched), Account.username == query.username),
            Account.is_partner.is_(True),
        )
    )
    found = {a.id: a for a in rows}
    exact = [a.id for a in found.values() if a.username == query.username]
    return [
        BrandOut.of(a) for a in (found[i] for i in _ranked(exact, matched, limit) if i in found)
    ]


def _after_prefix(prefix: str) -> str:
    """The first string after every string that starts with ``prefix`` (code point
    order, which is UTF-8's byte order)."""
    last = ord(prefix[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:
        last = 0xE000
    return prefix[:-1] + chr(min(last, 0x10FFFF))


def _starts_with(session: AsyncSession, lo: str) -> ColumnElement[bool]:
    """``hashtags.search_text`` starts with ``lo``: a range of its index (PostgreSQL's
    pattern operators compare bytes whatever the collation; SQLite's compare bytes)."""
    hi = _after_prefix(lo)
    column = Hashtag.search_text
    if dialect.is_postgres(session):
        return and_(column.op("~>=~")(lo), column.op("~<~")(hi))
    return and_(column >= lo, column < hi)


async def _hashtags(ctx: Context, query: Query, limit: int) -> list[HashtagOut]:
    """Hashtags starting with the query's plain form: the exact tag, then the most used."""
    if query.tag is None:
        return []
    plain = fold(query.tag)
    rows = await ctx.session.execute(
        select(Hashtag.tag, Hashtag.post_count, Drop.id)
        .outerjoin(Drop, Drop.tag == Hashtag.tag)
        .where(_starts_with(ctx.session, plain), Hashtag.post_count > 0)
        .order_by(
            case((Hashtag.tag == query.tag, 0), (Hashtag.search_text == plain, 1), else_=2),
            Hashtag.post_count.desc(),
            Hashtag.tag,
        )
        .limit(limit)
    )
    base = ctx.settings.public_url.rstrip("/")
    return [
        HashtagOut(tag=tag, post_count=count, drop_id=drop_id, url=f"{base}/tags/{quote(tag)}")
        for tag, count, drop_id in rows
    ]
