from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from dropbell.accounts.schemas import BrandOut
from dropbell.drops.schemas import DropOut, UTCDateTimeOut
from dropbell.types import control_problem

MAX_POST_LENGTH = 500


def _post_text(value: str) -> str:
    value = value.strip()
    problem = control_problem(value, multiline=True)
    if problem is not None:
        raise ValueError(problem)
    if not value:
        raise ValueError("a post needs some text")
    if len(value) > MAX_POST_LENGTH:
        raise ValueError(f"at most {MAX_POST_LENGTH} characters")
    return value


PostText = Annotated[
    # The bound before stripping keeps a megabyte of spaces from being stripped first.
    str,
    Field(max_length=10 * MAX_POST_LENGTH),
    AfterValidator(_post_text),
]


class PostCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: PostText = Field(
        description="1 to 500 characters (after trimming surrounding white space). "
        "#hashtags in it are found and stored, case-folded."
    )


class PostOut(BaseModel):
    """A post as the caller sees it.

    In the public timeline a repost is a Post of its own (as a reblog is in
    Mastodon): `id`, `author` and `created_at` are the repost's, `reblog` is the
    original post, and the other fields repeat the original's so a client that
    ignores `reblog` still shows the content. Actions on a repost's id act on
    the original.
    """

    id: int
    author: BrandOut
    text: str
    tags: list[str] = Field(description="Normalised (NFKC, case-folded), without '#'.")
    created_at: UTCDateTimeOut
    drop: DropOut | None = Field(description="Set on a drop's announcement post.")
    like_count: int
    repost_count: int
    bookmark_count: int
    share_count: int
    liked: bool = Field(description="By the caller (false without a token).")
    reposted: bool = Field(description="By the caller (false without a token).")
    bookmarked: bool = Field(description="By the caller (false without a token).")
    url: str = Field(description="The post's page; what Share hands out.")
    reblog: PostOut | None = Field(
        None, description="On a repost in a timeline: the original post. Null otherwise."
    )


class ShareOut(BaseModel):
    url: str


class TagPage(BaseModel):
    tag: str = Field(description="The tag, normalised.")
    drop: DropOut | None = Field(description="The drop that owns the tag, if any.")
    posts: list[PostOut] = Field(
        description="Live posts carrying the tag, newest first; paged by `max_id` (a post id)."
    )
