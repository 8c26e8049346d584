"""Every inbox test here runs with each way of reading an inbox (tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _each_inbox_read(inbox_read: str) -> str:
    return inbox_read
