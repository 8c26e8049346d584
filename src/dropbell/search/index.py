"""Keeping the search index up to date: called by the service that owns the change, in
its transaction (flush, never commit), so the index never disagrees with what it found.

Imports no domain service (only models): posts, drops and accounts call these.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dropbell import dialect
from dropbell.accounts.models import Account
from dropbell.drops.models import Drop
from dropbell.posts.models import PostTag
from dropbell.search.models import AccountSearch, DropSearch, Hashtag, PostSearch
from dropbell.search.text import document, fold


async def _put(session: AsyncSession, model: type, key: str, key_value: int, words: str) -> None:
    """Insert or replace the row of ``model`` for ``key_value``."""
    statement = dialect.insert(session, model).values({key: key_value, "search_text": words})
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[key], set_={"search_text": statement.excluded.search_text}
        )
    )


async def index_post(session: AsyncSession, post_id: int, text: str) -> None:
    """A new post can be found by the words of its text (hashtags included)."""
    await _put(session, PostSearch, "post_id", post_id, document(text))


async def forget_post(session: AsyncSession, post_id: int) -> None:
    """A deleted post is found no more."""
    await session.execute(delete(PostSearch).where(PostSearch.post_id == post_id))


async def index_drop(session: AsyncSession, drop: Drop) -> None:
    """A drop (new or edited) can be found by its title, description and tag."""
    words = document(drop.title, drop.description or "", drop.tag)
    await _put(session, DropSearch, "drop_id", drop.id, words)


async def forget_drop(session: AsyncSession, drop_id: int) -> None:
    """A cancelled drop leaves search (its own page and its tag page still say so)."""
    await session.execute(delete(DropSearch).where(DropSearch.drop_id == drop_id))


async def index_account(session: AsyncSession, account: Account) -> None:
    """A partner brand can be found by its username and display name; anyone else, or a
    brand no longer a partner, cannot. Call after a change of name or partnership."""
    if account.is_partner:
        words = document(account.username, account.display_name)
        await _put(session, AccountSearch, "account_id", account.id, words)
    else:
        await session.execute(delete(AccountSearch).where(AccountSearch.account_id == account.id))


async def count_tags(session: AsyncSession, tags: Collection[str], delta: int) -> None:
    """``delta`` more (or fewer) live posts carry each of ``tags`` (normalised, distinct):
    call with the ``post_tags`` rows just inserted (+1) or deleted (-1)."""
    if not tags:
        return
    if delta > 0:
        statement = dialect.insert(session, Hashtag).values(
            [{"tag": tag, "search_text": fold(tag), "post_count": delta} for tag in tags]
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["tag"],
                set_={"post_count": Hashtag.post_count + statement.excluded.post_count},
            )
        )
    else:
        await session.execute(
            update(Hashtag)
            .where(Hashtag.tag.in_(list(tags)))
            .values(post_count=Hashtag.post_count + delta)
            .execution_options(synchronize_session=False)
        )


async def recount_tags(session: AsyncSession) -> None:
    """Every hashtag's count from its ``post_tags`` rows again: after a bulk delete that
    cascaded past the services (the demo's reset deletes accounts, and their posts go)."""
    rows = select(func.count()).where(PostTag.tag == Hashtag.tag).scalar_subquery()
    await session.execute(
        update(Hashtag).values(post_count=rows).execution_options(synchronize_session=False)
    )
