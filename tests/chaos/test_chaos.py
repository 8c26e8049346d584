"""The chaos runs of benchmarks/chaos.py, short profile: real processes on PostgreSQL.

These use real time (processes, SIGKILL, a server restart), so they are the slowest
tests in the suite; the full profile and its figures are in docs/reliability.md.
"""

from __future__ import annotations

import pytest
from benchmarks import chaos

SERVER = chaos.DEFAULT_SERVER

# Alone: the pg-restart run restarts PostgreSQL under every other test's feet.
pytestmark = pytest.mark.alone


@pytest.mark.parametrize("scenario", ["kill", "downtime", "hang", "pg-restart"])
def test_nothing_lost_nothing_doubled(scenario: str) -> None:
    outcome = chaos.run(scenario, SERVER, "quick")
    print("\n".join(outcome.lines()))
    for kind in outcome.expected:
        assert outcome.lost(kind) == 0, outcome.lines()
        assert outcome.duplicated(kind) == 0, outcome.lines()
    assert outcome.ok, outcome.lines()
    if scenario == "downtime":  # never a stale "an hour" or "15 minutes" notice
        assert not [kind for kind in outcome.counts if kind.startswith("drop_soon")]
    if scenario == "pg-restart":
        assert outcome.notes["API /healthz after"].startswith("200")
        assert outcome.notes["API GET /drops/1 after"].startswith("200")
