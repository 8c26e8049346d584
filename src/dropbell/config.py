"""One typed settings object, read from DROPBELL_* environment variables."""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dropbell.rules import Rule


def _split(value: str) -> frozenset[str]:
    return frozenset(part.strip() for part in value.split(",") if part.strip())


class Settings(BaseSettings):
    """Everything an operator can set; see docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="DROPBELL_", extra="ignore")

    database_url: str = Field(
        default_factory=lambda: f"sqlite+aiosqlite:///{Path.cwd() / 'dropbell.db'}",
        description="SQLAlchemy URL; sqlite+aiosqlite:///file.db or postgresql+asyncpg://...",
    )
    reminder_lead_seconds: int = Field(
        900, ge=1, description="The lead of Remind me without a choice: drop_soon this early."
    )
    reminder_offsets: str = Field(
        "86400,3600,900",
        description="The leads (seconds before launch) a shopper may choose, comma-separated.",
    )
    # "*" lets everyone in; the original test was ios / US / en.
    rollout_platforms: str = "*"
    rollout_countries: str = "*"
    rollout_languages: str = "*"
    rollout_percent: int = Field(
        100, ge=0, le=100, description="A stable share of accounts that get Remind me."
    )
    public_url: str = Field(
        "http://127.0.0.1:8000", description="Base URL used in links we hand out."
    )
    max_launch_ahead_days: int = Field(
        730,
        ge=1,
        le=3_000_000,
        description="How far ahead a drop may launch, in days (422 past it).",
    )

    # The reminder engine.
    scheduler_poll_seconds: float = Field(
        0.25, gt=0, description="Longest nap between looks for due work."
    )
    job_lease_seconds: float = Field(
        30.0, gt=0, description="A claim not renewed for this long is taken over."
    )

    # Live events (server-sent events).
    stream_keepalive_seconds: float = Field(
        15.0, gt=0, description="How often an idle event stream gets a keep-alive comment."
    )
    max_streams_per_account: int = Field(
        10, ge=1, description="Open event streams one account may hold per process (429 past it)."
    )

    # Rate limits: N/SECONDS or off. Sign-up and log-in count per client address;
    # remind/unremind and posting per account.
    rate_limit_signup: str = "20/3600"
    rate_limit_token: str = "30/300"
    rate_limit_remind: str = "120/60"
    rate_limit_post: str = "30/60"
    # Log-in back-off per username (API and web): after this many wrong passwords in a
    # row, each next try waits 1, 2, 4 … seconds, at most login_backoff_max_seconds.
    login_backoff_after: int = Field(
        5, ge=1, description="Wrong passwords in a row for a username before it must wait."
    )
    login_backoff_max_seconds: float = Field(
        60.0, ge=0, description="The longest log-in back-off wait (0: no back-off)."
    )
    trusted_proxies: str = Field(
        "",
        description="Addresses or networks (comma-separated) whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; none by default.",
    )
    token_idle_days: float = Field(
        30.0, gt=0, description="A token (or web session) unused for this long stops working."
    )
    remind_new_drops_per_minute: int = Field(
        60, ge=0, description="New reminders one account may set per minute (0: no cap)."
    )
    # Each process's pool of PostgreSQL connections (SQLite ignores these). The pool is
    # what bounds a process's concurrent transactions: beyond it, requests wait in the
    # process (cheap), not as lock waiters inside PostgreSQL (docs/reliability.md).
    db_pool_size: int = Field(10, ge=1, description="Connections each process keeps open.")
    db_max_overflow: int = Field(
        0, ge=0, description="Extra connections a process may open under load (closed after)."
    )
    redis_url: str | None = Field(None, description="Share rate-limit counters across processes.")
    max_body_bytes: int = Field(64 * 1024, ge=1024, description="Larger request bodies get 413.")
    metrics_token: SecretStr | None = Field(
        None, description="GET /metrics answers only this bearer token; unset: 404 for everyone."
    )

    # Web Push (docs/push.md).
    vapid_private_key: SecretStr | None = Field(
        None, description="The VAPID private key (PEM or raw base64url); else kept in the database."
    )
    vapid_subject: str | None = Field(
        None, description="The VAPID contact (mailto: or https:); default: the public URL."
    )
    push_allowed_hosts: str = Field(
        "", description="host:port list pushed to even if not public https (a local push service)."
    )
    push_concurrency: int = Field(200, ge=1, description="Pushes in flight per worker process.")
    push_batch_size: int = Field(1000, ge=1, description="Subscriptions per push ledger batch.")
    push_max_attempts: int = Field(5, ge=1, description="Tries per push before it counts failed.")
    push_retry_seconds: float = Field(
        2.0, gt=0, description="First retry delay after a 429 or 5xx (doubles each time)."
    )
    push_retry_max_seconds: float = Field(600.0, gt=0, description="Longest retry delay.")
    push_timeout_seconds: float = Field(10.0, gt=0, description="One push request's timeout.")
    push_http2: bool = Field(
        True, description="HTTP/2 to push services (httpx); off: HTTP/1.1 on aiohttp's pool."
    )

    # Brands' uploaded images (src/dropbell/media, docs/operations.md).
    media_dir: Path = Field(
        default_factory=lambda: Path.cwd() / "media",
        description="Where uploaded images are stored (and served from, at /media/...).",
    )
    media_max_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="The largest image a brand may upload (413)."
    )

    # Only for tests and local demos: lets /_test/clock move the server's clock.
    test_hooks: bool = False

    @cached_property
    def rollout(self) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        return (
            frozenset(p.lower() for p in _split(self.rollout_platforms)),
            frozenset(c.upper() for c in _split(self.rollout_countries)),
            frozenset(lang.lower() for lang in _split(self.rollout_languages)),
        )

    @field_validator("reminder_offsets")
    @classmethod
    def _valid_offsets(cls, value: str) -> str:
        try:
            leads = [int(part) for part in value.split(",") if part.strip()]
        except ValueError:
            raise ValueError("a comma-separated list of seconds, like 86400,3600,900") from None
        if any(lead <= 0 for lead in leads):
            raise ValueError("each lead must be a positive number of seconds")
        return value

    @cached_property
    def offset_choices(self) -> list[int]:
        """The operator's menu of leads, largest first."""
        leads = {int(part) for part in self.reminder_offsets.split(",") if part.strip()}
        return sorted(leads, reverse=True)

    @property
    def allowed_offsets(self) -> frozenset[int]:
        """What Remind me accepts: the menu, and the default lead."""
        return frozenset(self.offset_choices) | {self.reminder_lead_seconds}

    @field_validator(
        "rate_limit_signup", "rate_limit_token", "rate_limit_remind", "rate_limit_post"
    )
    @classmethod
    def _valid_rule(cls, value: str) -> str:
        Rule.parse(value)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_proxies(cls, value: str) -> str:
        for part in _split(value):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or network") from None
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        """DROPBELL_TRUSTED_PROXIES as a list of addresses and networks (may be empty)."""
        return sorted(_split(self.trusted_proxies))

    def rate_rule(self, name: str) -> Rule | None:
        return Rule.parse(getattr(self, f"rate_limit_{name}"))

    @property
    def secure_cookies(self) -> bool:
        """Cookies are sent over https only when the public URL is https."""
        return self.public_url.startswith("https://")

    @property
    def pool_options(self) -> dict[str, int]:
        """Keyword arguments for the engine's connection pool."""
        if self.is_sqlite:
            return {}
        return {"pool_size": self.db_pool_size, "max_overflow": self.db_max_overflow}

    @property
    def push_allowed(self) -> frozenset[str]:
        """DROPBELL_PUSH_ALLOWED_HOSTS as lower-case host:port strings."""
        return frozenset(h.lower() for h in _split(self.push_allowed_hosts))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
