"""Fixtures shared by every layer's tests.

Every test runs with a private ``SOCIALDESK_HOME`` and none of the user's socialdesk environment
variables, so no test can touch a real config, keyring or token.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Imported for its side effect too: the Typer command tree is built once per test process.
import tests.support.cli  # noqa: F401
from tests.support.sandbox import SandboxEnv
from tests.support.sandbox import sandbox_env as _sandbox_env

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
