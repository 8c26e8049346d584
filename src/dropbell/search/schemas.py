from __future__ import annotations

from pydantic import BaseModel, Field

from dropbell.accounts.schemas import BrandOut
from dropbell.drops.schemas import DropOut
from dropbell.posts.schemas import PostOut

MAX_QUERY_LENGTH = 100


class HashtagOut(BaseModel):
    tag: str = Field(description="Normalised (NFKC, case-folded), without '#'.")
    post_count: int = Field(description="How many live posts carry it.")
    drop_id: int | None = Field(description="The drop that owns the tag, if one does.")
    url: str = Field(description="The tag's page in the web app.")


class SearchOut(BaseModel):
    """What a search found, each list best first."""

    drops: list[DropOut] = Field(
        description="Drops (not cancelled) with every word of the query in their title,"
        " description or tag; the drop whose tag is the query first, then the newest."
    )
    posts: list[PostOut] = Field(
        description="Posts (not drops' announcements: those are `drops`) with every word"
        " of the query; posts carrying the query as their tag first, then the newest."
    )
    accounts: list[BrandOut] = Field(
        description="Partner brands whose username or display name has the query's words"
        " (the last one may be the start of a word); the exact username first."
    )
    hashtags: list[HashtagOut] = Field(
        description="Hashtags that start with the query (one word, `#` optional): the"
        " exact tag first, then the most used."
    )
