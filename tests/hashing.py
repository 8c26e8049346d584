"""Argon2 at its lowest cost, for the tests: they sign up and log in thousands of times.

The same hashing code runs (argon2id hashes, verified as ever); only the cost parameters
are the smallest. The stand-in hash that an unknown username is checked against is made
at the same cost, so that both paths still cost the same. Used by tests/conftest.py in
the test process and by tests/procs.py in the servers the tests start.
"""

from __future__ import annotations

from collections.abc import Callable

from argon2 import PasswordHasher

from dropbell.accounts import security


def fast_password_hashing() -> Callable[[], None]:
    """Switch to the cheapest Argon2; returns what switches back."""
    hasher, dummy = security._hasher, security._DUMMY_HASH
    security._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    security._DUMMY_HASH = security._hasher.hash("dropbell-not-a-password")

    def restore() -> None:
        security._hasher, security._DUMMY_HASH = hasher, dummy

    return restore
