"""The rules tests' world (tests/support/rules_world.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.rules_world import RulesWorld


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RulesWorld]:
    monkeypatch.delenv("SOCIALDESK_RULES", raising=False)
    w = RulesWorld(tmp_path)
    yield w
    w.close()
