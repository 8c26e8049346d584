"""The Remind-me rush of benchmarks/rush.py, short profile: real `dropbell serve`
processes, a `dropbell worker` and wrk on PostgreSQL. No speed target is asserted (the figures
are in docs/reliability.md); what must hold is that no request failed, with and
without a choice of leads in the body, that every drop's reminder_count equals the
reminders held, and that the launch in the middle of the rush was released in the rush
(one notice row, within a second of due, where the old fan-out took one) and is seen by
every subscriber exactly once. The 100 ms target is the benchmark's to show
(``python -m benchmarks.rush``, docs/reliability.md), on a machine with nothing else on
it: here, a busy CI machine made it 116 ms once.

Needs wrk (``apt-get install -y wrk``); its absence is a failure, not a skip.
"""

from __future__ import annotations

import pytest
from benchmarks import rush

# Alone: it measures a release's lateness in the middle of a load run.
pytestmark = pytest.mark.alone


def test_quick_rush_loses_nothing() -> None:
    report = rush.run(rush.PROFILES["quick"], rush.DEFAULT_SERVER)
    for run in report.runs:
        where = f"{run.kind} (round {run.round})"
        assert not run.cpu.postgres_restarted, f"{where}: PostgreSQL restarted under the run"
        assert run.load.requests > 0, where
        assert run.load.errors == 0, (where, run.load.codes, run.load.socket_errors)
        for check in run.checks:
            assert check.ok, (where, check)
    kinds = {run.kind for run in report.runs}
    assert kinds == {"hello", "bare", "dropbell", "offsets", "launch"}
    (launch,) = [run for run in report.runs if run.kind == "launch"]
    profile = rush.PROFILES["quick"]
    assert launch.launch["job_done"]
    assert launch.launch["notice_rows"] == launch.launch["deliveries"] == 1
    assert launch.launch["released_ms"] <= 1_000, launch.launch
    assert launch.launch["notified"] == launch.launch["distinct"] == profile.subscribers
    assert launch.launch["notified_live"] == profile.subscribers
