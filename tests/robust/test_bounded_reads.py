"""Config, token and plan files are read bounded: regular files only, a size limit, symlinks
only to the user's own files. Before, a config symlinked to /dev/zero or a FIFO hung every
command and a 200 MB config was read whole."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from socialdesk import secrets
from socialdesk.config import CONFIG_LIMIT, load_config
from socialdesk.core.ack_plan import read_plan
from socialdesk.errors import AuthError, ConfigError, ExitCode, UsageError
from socialdesk.paths import MIB, Paths, read_bounded, resolve_paths

IS_ROOT = os.geteuid() == 0


@pytest.fixture
def paths() -> Paths:
    p = resolve_paths()
    p.ensure()
    return p


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _dev_zero(path: Path) -> Path:
    path.symlink_to("/dev/zero")
    return path


def _directory(path: Path) -> Path:
    path.mkdir()
    return path


def _sparse(size: int) -> Callable[[Path], Path]:
    def make(path: Path) -> Path:
        with path.open("wb") as fh:
            fh.truncate(size)  # sparse: takes no disk, and reading it whole would take `size`
        return path

    return make


BAD_FILES = {
    "fifo": (_fifo, "FIFO"),
    "dev_zero": (_dev_zero, "character device"),
    "directory": (_directory, "directory"),
    "huge": (_sparse(200 * MIB), "200.0 MiB"),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_config_that_is_not_a_small_regular_file_is_refused(paths: Paths, kind: str) -> None:
    """A FIFO, /dev/zero, a directory or 200 MB as config.toml: a ConfigError naming it."""
    make, words = BAD_FILES[kind]
    make(paths.config_file)
    with pytest.raises(ConfigError) as info:
        load_config(paths)
    assert str(paths.config_file) in info.value.message
    assert words in info.value.message
    assert info.value.exit_code == ExitCode.USAGE


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_token_file_that_is_not_a_small_regular_file_is_refused(paths: Paths, kind: str) -> None:
    """The same for the token file: an AuthError naming it (never its content)."""
    make, words = BAD_FILES[kind]
    paths.token_dir.mkdir(mode=0o700, exist_ok=True)
    make(paths.token_file)
    if not paths.token_file.is_symlink() and not paths.token_file.is_dir():
        os.chmod(paths.token_file, 0o600)  # past the mode check, to the read itself
    with pytest.raises(AuthError) as info:
        secrets.load_token(paths, "123")
    assert str(paths.token_file) in info.value.message
    assert words in info.value.message or "its mode" in info.value.message


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_plan_file_that_is_not_a_small_regular_file_is_refused(tmp_path: Path, kind: str) -> None:
    """`ack --apply` on a FIFO, /dev/zero, a directory or 200 MB: a UsageError naming it."""
    make, words = BAD_FILES[kind]
    if kind == "huge":
        make = _sparse(65 * MIB)
        words = "65.0 MiB"
    plan = make(tmp_path / "plan.json")
    conn = sqlite3.connect(":memory:")
    with pytest.raises(UsageError) as info:
        read_plan(plan, conn)
    assert str(plan) in info.value.message and words in info.value.message


def test_limit_is_exact(tmp_path: Path) -> None:
    """Exactly the limit is read; one byte more is refused (not truncated)."""
    f = tmp_path / "f"
    f.write_bytes(b"x" * 1000)
    assert read_bounded(f, 1000, "the file") == b"x" * 1000
    with pytest.raises(UsageError, match="reads at most 999 B"):
        read_bounded(f, 999, "the file")


def test_config_at_the_limit_is_read(paths: Paths) -> None:
    """A big but legal config (comments up to the limit) still loads."""
    text = 'default_page = "shop"\n[pages.shop]\nid = "1"\n'
    paths.config_file.write_text(text + "#" * (CONFIG_LIMIT - len(text) - 1) + "\n")
    assert load_config(paths).page().id == "1"


def test_symlink_to_an_own_file_is_followed(paths: Paths, tmp_path: Path) -> None:
    """A config kept in a dotfiles checkout and symlinked in works as before."""
    real = tmp_path / "dotfiles" / "socialdesk.toml"
    real.parent.mkdir()
    real.write_text('[pages.shop]\nid = "42"\n')
    paths.config_file.symlink_to(real)
    assert load_config(paths).page().id == "42"


@pytest.mark.skipif(not IS_ROOT, reason="needs root to give a file to another user")
def test_symlink_to_another_users_file_is_refused(paths: Paths, tmp_path: Path) -> None:
    """A symlink to a file someone else owns is not followed (config and token file)."""
    foreign = tmp_path / "theirs.toml"
    foreign.write_text('[pages.shop]\nid = "42"\n')
    os.chown(foreign, 12345, 12345)
    paths.config_file.symlink_to(foreign)
    with pytest.raises(ConfigError, match="belongs to another user") as info:
        load_config(paths)
    assert "uid 12345" in info.value.message and str(foreign) in info.value.message
    paths.token_dir.mkdir(mode=0o700, exist_ok=True)
    token = tmp_path / "tokens.json"
    token.write_text(json.dumps({"version": 1, "pages": {"1": "EAAB" + "x" * 40}}))
    os.chmod(token, 0o600)
    os.chown(token, 12345, 12345)
    paths.token_file.symlink_to(token)
    with pytest.raises(AuthError, match="belongs to another user"):
        secrets.load_token(paths, "1")


def test_not_utf8_plan_is_a_usage_error(tmp_path: Path) -> None:
    """A binary plan file is refused clearly (it used to escape as UnicodeDecodeError)."""
    plan = tmp_path / "plan.json"
    plan.write_bytes(b"\xff\xfe{}")
    with pytest.raises(UsageError, match="not UTF-8"):
        read_plan(plan, sqlite3.connect(":memory:"))


@pytest.mark.parametrize("kind", ["fifo", "dev_zero"])
def test_cli_does_not_hang_on_a_fifo_or_dev_zero_config(paths: Paths, kind: str) -> None:
    """`socialdesk list` with such a config exits 2 at once, naming the file."""
    BAD_FILES[kind][0](paths.config_file)
    proc = subprocess.run(
        [sys.executable, "-m", "socialdesk", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    assert proc.returncode == ExitCode.USAGE, proc.stderr
    assert str(paths.config_file) in proc.stderr
    assert "not a regular file" in proc.stderr
