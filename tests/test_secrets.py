"""secrets.py: env wins, the 0600/0700 file fallback, refusal of readable files, keyring use."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

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


def _use_backend(monkeypatch: pytest.MonkeyPatch, backend: object, name: str | None) -> None:
    """Make ``backend`` the keyring's backend; ``name`` lists its class as secure (None: not)."""
    import keyring

    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    if name is not None:
        cls = type(backend)
        monkeypatch.setitem(secrets.SECURE_BACKENDS, (cls.__module__, cls.__qualname__), name)


def test_keyring_is_used_when_it_works(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a working secure backend the token goes to service 'socialdesk', user 'page:<id>'."""
    backend = _MemoryKeyring()
    _use_backend(monkeypatch, backend, "SecretService")
    assert secrets.store_token(paths, "111", TOKEN) == "keyring"
    assert backend.store[("socialdesk", "page:111")] == TOKEN
    assert not paths.token_file.exists()
    assert secrets.load_token(paths, "111") == TOKEN
    info = secrets.token_info(paths, "111")
    assert info is not None and info.source == "keyring"
    assert info.backend == "SecretService" and info.describe == "keyring (SecretService)"
    assert secrets.store_app_secret(paths, "app-secret-x") == "keyring"
    assert backend.store[("socialdesk", "app_secret")] == "app-secret-x"
    assert secrets.delete_token(paths, "111") is True
    assert ("socialdesk", "page:111") not in backend.store


class _BrokenKeyring(_MemoryKeyring):
    """A secure-looking backend whose every read fails (a locked Secret Service)."""

    def get_password(self, service: str, user: str) -> str | None:
        raise RuntimeError("no dbus session")


def test_broken_keyring_falls_back_to_file(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    """A backend that raises on use (locked Secret Service) means the file is used."""
    _use_backend(monkeypatch, _BrokenKeyring(), "SecretService")
    assert secrets.keyring_available() is False
    assert secrets.store_token(paths, "111", TOKEN) == "file"
    assert secrets.load_token(paths, "111") == TOKEN


class PlaintextKeyring(_MemoryKeyring):
    """Stands in for keyrings.alt's plaintext file backend (priority 0.5, works fine)."""

    priority = 0.5  # type: ignore[assignment]


def test_insecure_keyring_backend_is_not_used(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A working but unknown/plaintext backend is not "the system keyring": the 0600 file is."""
    backend = PlaintextKeyring()
    _use_backend(monkeypatch, backend, None)
    assert secrets.keyring_available() is False
    assert secrets.keyring_backend_name() is None
    assert secrets.store_token(paths, "111", TOKEN) == "file"
    assert backend.store == {}
    info = secrets.token_info(paths, "111")
    assert info is not None and info.describe == f"file {paths.token_file}"


@pytest.mark.parametrize("module", ["keyring.backends.fail", "keyring.backends.null"])
def test_fail_and_null_backends_are_refused(
    paths: Paths, monkeypatch: pytest.MonkeyPatch, module: str
) -> None:
    """keyring's own fail/null backends never count as a keyring."""
    import importlib

    backend = importlib.import_module(module).Keyring()
    _use_backend(monkeypatch, backend, None)
    assert secrets.keyring_available() is False


def _chainer(members: list[object]) -> object:
    from keyring.backends import chainer

    class ChainerBackend(chainer.ChainerBackend):
        @property
        def backends(self) -> list[object]:
            return members

    ChainerBackend.__module__ = "keyring.backends.chainer"
    return ChainerBackend()  # type: ignore[no-untyped-call]


def test_chainer_uses_its_secure_member_only(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chainer is a keyring only through a secure member, which is written to directly."""
    plain, secure = PlaintextKeyring(), _MemoryKeyring()
    plain.priority = 9
    _use_backend(monkeypatch, secure, "KWallet")
    _use_backend(monkeypatch, _chainer([plain, secure]), None)
    assert secrets.keyring_backend_name() == "KWallet"
    assert secrets.store_token(paths, "111", TOKEN) == "keyring"
    assert secure.store == {("socialdesk", "page:111"): TOKEN} and plain.store == {}


def test_chainer_of_insecure_backends_is_refused(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chainer holding only plaintext backends means the file."""
    plain = PlaintextKeyring()
    _use_backend(monkeypatch, _chainer([plain]), None)
    assert secrets.keyring_available() is False
    assert secrets.store_token(paths, "111", TOKEN) == "file"
    assert plain.store == {}


def test_real_secure_backend_classes_are_known() -> None:
    """The real SecretService/KWallet/macOS/Windows classes are in SECURE_BACKENDS by name."""
    from keyring.backends import SecretService, Windows, kwallet, libsecret, macOS

    for cls, name in [
        (SecretService.Keyring, "SecretService"),
        (libsecret.Keyring, "libsecret"),
        (kwallet.DBusKeyring, "KWallet"),
        (macOS.Keyring, "macOS Keychain"),
        (Windows.WinVaultKeyring, "Windows Credential Locker"),
    ]:
        assert secrets.SECURE_BACKENDS[(cls.__module__, cls.__qualname__)] == name


@pytest.mark.parametrize(
    ("bad", "what"),
    [
        ("abc\r\nX-Evil: 1", "line break"),
        ("abc\ndef", "line break"),
        ("abc def", "whitespace"),
        ("abc\tdef", "whitespace"),
        ("abc\x1bdef", "control character"),
        ("abc\x7fdef", "control character"),
        ("abcédef", "non-ASCII"),
        ("abc\u202edef", "non-ASCII"),
    ],
)
def test_malformed_env_token_is_an_auth_error_naming_the_source(
    paths: Paths, monkeypatch: pytest.MonkeyPatch, bad: str, what: str
) -> None:
    """SOCIALDESK_TOKEN with whitespace/CR/LF/control/non-ASCII inside: AuthError naming it."""
    monkeypatch.setenv("SOCIALDESK_TOKEN", bad)
    with pytest.raises(AuthError) as info:
        secrets.load_token(paths, "111")
    assert "SOCIALDESK_TOKEN" in info.value.message and what in info.value.message
    assert bad not in info.value.message + (info.value.hint or "")


def test_malformed_token_in_file_is_an_auth_error(paths: Paths) -> None:
    """A token file edited by hand to hold a CR/LF token is refused, naming the file and page."""
    secrets.store_token(paths, "111", TOKEN)
    doc = json.loads(paths.token_file.read_text())
    doc["pages"]["111"] = "EAAB\r\nsecond"
    paths.token_file.write_text(json.dumps(doc))
    with pytest.raises(AuthError) as info:
        secrets.load_token(paths, "111")
    assert str(paths.token_file) in info.value.message and "page 111" in info.value.message


def test_malformed_token_in_keyring_is_an_auth_error(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A keyring entry holding a newline is refused, naming the keyring entry."""
    backend = _MemoryKeyring()
    backend.store[("socialdesk", "page:111")] = "tok\nen"
    _use_backend(monkeypatch, backend, "SecretService")
    with pytest.raises(AuthError, match="system keyring"):
        secrets.load_token(paths, "111")


def test_secrets_directories_are_0700_including_a_new_home(tmp_path: Path) -> None:
    """Storing a token under a home that does not exist yet makes home and secrets/ 0700."""
    home = tmp_path / "new" / "home"
    p = resolve_paths(home)
    secrets.store_token(p, "111", TOKEN)
    for directory in (tmp_path / "new", home, p.token_dir):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert stat.S_IMODE(p.token_file.stat().st_mode) == 0o600
