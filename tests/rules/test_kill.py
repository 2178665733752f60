"""Never twice under kill -9: overlapping `rules run` / `sync --rules` processes, SIGKILLed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.rules_kill import RulesHarness, kill_rounds


@pytest.mark.slow
def test_rules_never_send_twice_under_kills_and_overlapping_runs(tmp_path: Path) -> None:
    h = RulesHarness(tmp_path / "home", latency_ms=20, seed=5, pace_runs=False)
    try:
        res = kill_rounds(h, kills=2, customers=6, kills_per_round=2, seed=7, max_delay_s=0.8)
        assert res.killed_mid_run >= 1  # the kills really interrupted runs
        assert res.duplicates == []
        assert res.left_sending == 0
        # Every customer got the reply, except those whose send's outcome is unknown (never
        # resent: fail closed).
        assert res.delivered + res.unknown_rows >= res.customers
    finally:
        h.close()
