from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from dropbell.accounts import security
from dropbell.accounts.codes import COUNTRIES, LANGUAGES
from dropbell.types import OneLine

if TYPE_CHECKING:
    from dropbell.accounts.models import Account

Platform = Literal["ios", "android", "web"]
USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{3,30}$")
_TIMEZONES = frozenset(available_timezones())
# Codes are accepted in upper or lower case (US, us), and stored canonical (US, en).
_COUNTRY_SPELLINGS = COUNTRIES | {c.lower() for c in COUNTRIES}
_LANGUAGE_SPELLINGS = LANGUAGES | {lang.upper() for lang in LANGUAGES}


def _username(value: str) -> str:
    if not USERNAME_RE.fullmatch(value):
        raise ValueError("3 to 30 letters, digits or _")
    return value.lower()


def _country(value: str) -> str:
    if value not in _COUNTRY_SPELLINGS:
        raise ValueError("an ISO 3166-1 alpha-2 country code, like US")
    return value.upper()


def _language(value: str) -> str:
    if value not in _LANGUAGE_SPELLINGS:
        raise ValueError("an ISO 639-1 language code, like en")
    return value.lower()


def _timezone(value: str) -> str:
    if value not in _TIMEZONES:
        raise ValueError("an IANA time zone, like America/New_York")
    return value


# The JSON schema states the rules exactly (pattern, enums), so a client (or a fuzzer)
# that follows the schema is never refused.
Username = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9_]{3,30}$", examples=["maya_chen"]), AfterValidator(_username)
]
Country = Annotated[
    str,
    Field(json_schema_extra={"enum": sorted(_COUNTRY_SPELLINGS)}, examples=["US"]),
    AfterValidator(_country),
]
Language = Annotated[
    str,
    Field(json_schema_extra={"enum": sorted(_LANGUAGE_SPELLINGS)}, examples=["en"]),
    AfterValidator(_language),
]
TimeZone = Annotated[
    str,
    Field(json_schema_extra={"enum": sorted(_TIMEZONES)}, examples=["America/New_York"]),
    AfterValidator(_timezone),
]


def _password(value: str) -> str:
    problem = security.password_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


# 8 to 200 characters, not one of the most common passwords (and, checked where the
# username is known, not the username).
Password = Annotated[str, Field(min_length=8, max_length=200), AfterValidator(_password)]


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    password: Password
    display_name: OneLine | None = Field(None, min_length=1, max_length=60)
    country: Country
    language: Language
    timezone: TimeZone = "UTC"

    @field_validator("password")
    @classmethod
    def _not_the_username(cls, value: str, info: ValidationInfo) -> str:
        username = info.data.get("username")
        if isinstance(username, str):
            problem = security.password_problem(value, username)
            if problem is not None:
                raise ValueError(problem)
        return value


class PasswordChange(BaseModel):
    """Change the password: the current one, and the new one (the sign-up rules)."""

    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(max_length=200)
    new_password: Password


class ProfileUpdate(BaseModel):
    """What a shopper can change about themselves (the web app's profile page)."""

    model_config = ConfigDict(extra="forbid")

    display_name: OneLine = Field(min_length=1, max_length=60)
    country: Country
    language: Language
    timezone: TimeZone


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: OneLine = Field(max_length=30)
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


class RevokedOut(BaseModel):
    revoked: int = Field(description="How many tokens and web sessions stopped working.")


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    account: AccountOut


class BrandOut(BaseModel):
    id: int
    username: str
    display_name: str
    is_partner: bool = Field(
        description="An approved partner brand (dropbell shows a verified mark beside it; "
        "no display name can look like a partner's)."
    )

    @classmethod
    def of(cls, account: Account) -> BrandOut:
        return cls(
            id=account.id,
            username=account.username,
            display_name=account.display_name,
            is_partner=account.is_partner,
        )
