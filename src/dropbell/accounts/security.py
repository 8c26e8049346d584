"""Password and token hashing, and which passwords are refused."""

from __future__ import annotations

import gzip
import hashlib
import secrets
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Compared against when the username is unknown, so both paths cost the same.
_DUMMY_HASH = _hasher.hash("dropbell-not-a-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@cache
def _common_passwords() -> frozenset[str]:
    """Django's list of the 20,000 most common passwords (lower-case; see docs/api.md)."""
    data = resources.files("dropbell.accounts").joinpath("common-passwords.txt.gz").read_bytes()
    return frozenset(line.strip() for line in gzip.decompress(data).decode().splitlines())


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why ``password`` is refused (a common one, or the username), else None."""
    if username is not None and password.strip().lower() == username.strip().lower():
        return "must not be the same as the username"
    if password.strip().lower() in _common_passwords():
        return "is one of the most common passwords; choose a less guessable one"
    return None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Tokens are long and random, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()
