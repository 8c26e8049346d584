from __future__ import annotations

import re
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from dropbell.accounts.codes import COUNTRIES, LANGUAGES

Platform = Literal["ios", "android", "web"]
USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{3,30}$")
_TIMEZONES = frozenset(available_timezones())


def _username(value: str) -> str:
    if not USERNAME_RE.fullmatch(value):
        raise ValueError("3 to 30 letters, digits or _")
    return value.lower()


def _country(value: str) -> str:
    if value.upper() not in COUNTRIES:
        raise ValueError("an ISO 3166-1 alpha-2 country code, like US")
    return value.upper()


def _language(value: str) -> str:
    if value.lower() not in LANGUAGES:
        raise ValueError("an ISO 639-1 language code, like en")
    return value.lower()


def _timezone(value: str) -> str:
    if value not in _TIMEZONES:
        raise ValueError("an IANA time zone, like America/New_York")
    return value


Username = Annotated[str, Field(max_length=30), AfterValidator(_username)]
Country = Annotated[str, Field(min_length=2, max_length=2), AfterValidator(_country)]
Language = Annotated[str, Field(min_length=2, max_length=2), AfterValidator(_language)]
TimeZone = Annotated[str, Field(max_length=64), AfterValidator(_timezone)]


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    password: str = Field(min_length=8, max_length=200)
    display_name: str | None = Field(None, min_length=1, max_length=60)
    country: Country
    language: Language
    timezone: TimeZone = "UTC"


class ProfileUpdate(BaseModel):
    """What a shopper can change about themselves (the web app's profile page)."""

    model_config = ConfigDict(extra="forbid")

    display_name: str = Field(min_length=1, max_length=60)
    country: Country
    language: Language
    timezone: TimeZone


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=30)
    password: str = Field(max_length=200)
    platform: Platform


class AccountOut(BaseModel):
    id: int
    username: str
    display_name: str
    country: str
    language: str
    timezone: str
    is_partner: bool
    shop_domains: list[str]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    account: AccountOut


class BrandOut(BaseModel):
    id: int
    username: str
    display_name: str
