"""secrets.py: env wins, the 0600/0700 file fallback, refusal of readable files, keyring use."""

from __future__ import annotations

import json
import os
import stat
from typing import Any

import pytest

from socialdesk import secrets
from socialdesk.errors import AuthError, UsageError
from socialdesk.paths import Paths, resolve_paths

TOKEN = "EAAB" + "x" * 60


@pytest.fixture
def paths() -> Paths:
    return resolve_paths()


def test_fail_backend_means_no_keyring() -> None:
    """The conftest's fail backend is detected as "no keyring"."""
    assert secrets.keyring_available() is False


def test_file_fallback_is_0600_in_0700_dir(paths: Paths) -> None:
    """Without a keyring the token goes to a 0600 file in a 0700 directory."""
    assert secrets.store_token(paths, "111", TOKEN) == "file"
    assert stat.S_IMODE(paths.token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.token_dir.stat().st_mode) == 0o700
    assert secrets.load_token(paths, "111") == TOKEN
    assert secrets.load_token(paths, "222") is None
    info = secrets.token_info(paths, "111")
    assert info is not None and info.source == "file" and info.location == str(paths.token_file)


def test_existing_loose_directory_is_tightened(paths: Paths) -> None:
    """A pre-existing 0755 secrets directory is made 0700 when a token is stored."""
    paths.token_dir.mkdir(parents=True, mode=0o755)
    os.chmod(paths.token_dir, 0o755)
    secrets.store_token(paths, "111", TOKEN)
    assert stat.S_IMODE(paths.token_dir.stat().st_mode) == 0o700


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_refuses_token_file_others_can_read(paths: Paths, mode: int) -> None:
    """A token file group/others can access is refused with the chmod fix, token not shown."""
    secrets.store_token(paths, "111", TOKEN)
    os.chmod(paths.token_file, mode)
    with pytest.raises(AuthError) as info:
        secrets.load_token(paths, "111")
    err = info.value
    assert f"{mode:04o}" in err.message
    assert err.hint is not None and f"chmod 600 {paths.token_file}" in err.hint
    assert TOKEN not in err.message + err.hint


def test_env_token_wins(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    """SOCIALDESK_TOKEN overrides a stored token, for any page."""
    secrets.store_token(paths, "111", TOKEN)
    monkeypatch.setenv("SOCIALDESK_TOKEN", " from-env-token ")
    assert secrets.load_token(paths, "111") == "from-env-token"
    assert secrets.load_token(paths, "999") == "from-env-token"
    info = secrets.token_info(paths, "111")
    assert info is not None and info.source == "env"


def test_env_wins_even_over_a_bad_file(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    """With SOCIALDESK_TOKEN set, a readable token file is not even opened (cron keeps working)."""
    secrets.store_token(paths, "111", TOKEN)
    os.chmod(paths.token_file, 0o644)
    monkeypatch.setenv("SOCIALDESK_TOKEN", "env-token-value")
    assert secrets.load_token(paths, "111") == "env-token-value"


def test_delete_token(paths: Paths) -> None:
    """delete_token forgets one page and reports whether there was something to forget."""
    secrets.store_token(paths, "111", TOKEN)
    secrets.store_token(paths, "222", TOKEN + "2")
    assert secrets.stored_page_ids(paths) == ["111", "222"]
    assert secrets.delete_token(paths, "111") is True
    assert secrets.delete_token(paths, "111") is False
    assert secrets.load_token(paths, "111") is None
    assert secrets.load_token(paths, "222") == TOKEN + "2"


@pytest.mark.parametrize("bad", ["", "   ", "abc def", "abc\x1b[0m", "tok\nen"])
def test_store_rejects_malformed_tokens(paths: Paths, bad: str) -> None:
    """Empty tokens or tokens with spaces/control characters are refused before storing."""
    with pytest.raises(UsageError):
        secrets.store_token(paths, "111", bad)
    assert not paths.token_file.exists()


def test_damaged_file_is_an_auth_error(paths: Paths) -> None:
    """A token file that is not JSON gives an AuthError telling how to recover."""
    paths.token_dir.mkdir(parents=True, mode=0o700)
    paths.token_file.write_text("{nope")
    os.chmod(paths.token_file, 0o600)
    with pytest.raises(AuthError, match="damaged"):
        secrets.load_token(paths, "111")


def test_app_secret_env_file_and_delete(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app secret follows the same rules: env wins, else the file; delete forgets it."""
    assert secrets.load_app_secret(paths) is None
    assert secrets.store_app_secret(paths, "s3cr3t-app") == "file"
    assert secrets.load_app_secret(paths) == "s3cr3t-app"
    monkeypatch.setenv("SOCIALDESK_APP_SECRET", "env-secret")
    assert secrets.load_app_secret(paths) == "env-secret"
    monkeypatch.delenv("SOCIALDESK_APP_SECRET")
    assert secrets.delete_app_secret(paths) is True
    assert secrets.load_app_secret(paths) is None
    doc = json.loads(paths.token_file.read_text())
    assert "app_secret" not in doc


class _MemoryKeyring:
    """A working in-memory keyring backend (priority 1)."""

    priority = 1

    def __init__(self) -> None:
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, user: str) -> str | None:
        return self.store.get((service, user))

    def set_password(self, service: str, user: str, value: str) -> None:
        self.store[(service, user)] = value

    def delete_password(self, service: str, user: str) -> None:
        del self.store[(service, user)]


def test_keyring_is_used_when_it_works(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a working backend the token goes to service 'socialdesk', user 'page:<id>'."""
    import keyring

    backend = _MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    monkeypatch.setattr(keyring, "get_password", backend.get_password)
    monkeypatch.setattr(keyring, "set_password", backend.set_password)
    monkeypatch.setattr(keyring, "delete_password", backend.delete_password)
    assert secrets.store_token(paths, "111", TOKEN) == "keyring"
    assert backend.store[("socialdesk", "page:111")] == TOKEN
    assert not paths.token_file.exists()
    assert secrets.load_token(paths, "111") == TOKEN
    info = secrets.token_info(paths, "111")
    assert info is not None and info.source == "keyring"
    assert secrets.store_app_secret(paths, "app-secret-x") == "keyring"
    assert backend.store[("socialdesk", "app_secret")] == "app-secret-x"
    assert secrets.delete_token(paths, "111") is True
    assert ("socialdesk", "page:111") not in backend.store


def test_broken_keyring_falls_back_to_file(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    """A backend that raises on use (locked Secret Service) means the file is used."""
    import keyring

    def broken(*args: Any) -> None:
        raise RuntimeError("no dbus session")

    monkeypatch.setattr(keyring, "get_keyring", lambda: _MemoryKeyring())
    monkeypatch.setattr(keyring, "get_password", broken)
    assert secrets.keyring_available() is False
    assert secrets.store_token(paths, "111", TOKEN) == "file"
    assert secrets.load_token(paths, "111") == TOKEN
