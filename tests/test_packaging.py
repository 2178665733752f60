"""The test tools are pinned where CI and the README install them."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_pytest_is_pinned_below_9_for_pytest_textual_snapshot() -> None:
    """The test extra, .ci/run and the README's test command ask for pytest>=8,<9
    (pytest-textual-snapshot breaks on 9)."""
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    test_deps = extra["optional-dependencies"]["test"]
    assert "pytest>=8,<9" in test_deps
    ci = (ROOT / ".ci" / "run").read_text()
    assert "'.[test]' 'pytest>=8,<9'" in ci
    readme = (ROOT / "README.md").read_text()
    assert "pip install -e '.[test]' 'pytest>=8,<9' && python -m pytest" in readme
