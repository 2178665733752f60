"""Fixtures shared by every layer's tests.

Every test runs with a private ``SOCIALDESK_HOME`` and none of the user's socialdesk environment
variables, so no test can touch a real config, keyring or token.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


def _write_bytecode() -> None:
    """With ``PYTHONDONTWRITEBYTECODE`` set, every xdist worker re-ran pytest's assertion
    rewriting of all test modules (about 4 s of CPU each) and every ``python -m socialdesk``
    subprocess compiled socialdesk from source. Write the bytecode, for this process and its
    children, in the usual ``__pycache__/`` next to each source (ignored by git).

    Not under a ``sys.pycache_prefix``: a prefix applies to every module, so the installed
    packages' bytecode that pip already wrote would be ignored, and in a fresh clone each worker
    compiled textual, rich, httpx, hypothesis and the standard library again (about 1,100
    modules, the larger part of a cold run's extra time). A read-only checkout runs uncached."""
    if not sys.dont_write_bytecode:
        return
    sys.dont_write_bytecode = False
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


_write_bytecode()  # before the imports below, so socialdesk is cached too

# Imported for its side effect too: the Typer command tree is built once per test process.
import tests.support.cli  # noqa: E402, F401
from tests.support.sandbox import SandboxEnv  # noqa: E402
from tests.support.sandbox import sandbox_env as _sandbox_env  # noqa: E402

_ENV_VARS = (
    "SOCIALDESK_HOME",
    "SOCIALDESK_TOKEN",
    "SOCIALDESK_GRAPH_URL",
    "SOCIALDESK_APP_SECRET",
    "VISUAL",
    "EDITOR",
)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private SOCIALDESK_HOME per test; the keyring is disabled so tokens use the 0600 file."""
    for var in _ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("SOCIALDESK_HOME", str(home))
    # The null keyring backend makes `keyring` report failure, so secrets fall back to the file.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")
    yield home
    assert os.environ.get("SOCIALDESK_HOME") == str(home)


@pytest.fixture
def sandbox_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxEnv]:
    """A small demo sandbox, in-process: CLI commands reach it through its transport."""
    with _sandbox_env(monkeypatch) as env:
        yield env


@pytest.fixture
def served_sandbox_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxEnv]:
    """The same sandbox served on 127.0.0.1, for tests that run socialdesk in subprocesses."""
    with _sandbox_env(monkeypatch, served=True) as env:
        yield env


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start the long end-to-end tests (``@pytest.mark.slow``) first.

    xdist hands tests out in this order, so a 10 s test no longer starts on one worker after the
    other has run out of work: the two workers finish together. The relative order within each
    group is kept.
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
