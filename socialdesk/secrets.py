"""Where the page tokens (and the optional app secret) are kept.

Order of lookup, first hit wins:

1. ``SOCIALDESK_TOKEN`` / ``SOCIALDESK_APP_SECRET`` in the environment (cron, CI, the sandbox);
2. the system keyring (service ``socialdesk``, user ``page:<page id>`` / ``app_secret``) when a
   known secure backend (:data:`SECURE_BACKENDS`) works: a plaintext "keyring" is not one;
3. a JSON file, ``paths.token_file``, mode 0600 inside a 0700 directory. A token file that
   group or others can read is refused (research/PERF_RELIABILITY.md §9).

A token with whitespace, control or non-ASCII characters is refused wherever it comes from.
Storing goes to the keyring when one works, else to the file. Nothing here ever logs, prints or
puts a secret into an error message. Called by ``core/session.py`` and the ``init``/``auth``/
``doctor`` commands.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from socialdesk.errors import AuthError, UsageError
from socialdesk.paths import KIB, Paths, atomic_write, make_private_dir, read_bounded_text

__all__ = [
    "APP_SECRET_ENV",
    "KEYRING_SERVICE",
    "SECURE_BACKENDS",
    "TOKEN_ENV",
    "TOKEN_FILE_LIMIT",
    "SecretSource",
    "TokenInfo",
    "check_token",
    "check_token_file",
    "delete_app_secret",
    "delete_token",
    "env_token",
    "keyring_available",
    "keyring_backend_name",
    "load_app_secret",
    "load_token",
    "store_app_secret",
    "store_token",
    "stored_page_ids",
    "token_info",
]

TOKEN_ENV = "SOCIALDESK_TOKEN"
APP_SECRET_ENV = "SOCIALDESK_APP_SECRET"
KEYRING_SERVICE = "socialdesk"
_APP_SECRET_USER = "app_secret"
_FILE_VERSION = 1
TOKEN_FILE_LIMIT = 256 * KIB
"""The largest token file read: a Page token is ~200 bytes, so this is room for a thousand."""

SecretSource = Literal["env", "keyring", "file"]


@dataclass(frozen=True)
class TokenInfo:
    """Where a page's token comes from (never the token itself)."""

    source: SecretSource
    location: str
    """``SOCIALDESK_TOKEN``, ``keyring:socialdesk/page:<id>`` or the file path."""
    backend: str | None = None
    """The keyring backend's name (``SecretService``…) when ``source`` is ``keyring``."""

    @property
    def describe(self) -> str:
        """For humans: ``keyring (SecretService)``, ``file <path>``, ``env SOCIALDESK_TOKEN``."""
        if self.source == "keyring":
            return f"keyring ({self.backend or 'unknown backend'})"
        return f"{self.source} {self.location}"


def _page_user(page_id: str) -> str:
    return f"page:{page_id}"


# --- keyring ---------------------------------------------------------------------------------

SECURE_BACKENDS: dict[tuple[str, str], str] = {
    ("keyring.backends.SecretService", "Keyring"): "SecretService",
    ("keyring.backends.libsecret", "Keyring"): "libsecret",
    ("keyring.backends.kwallet", "DBusKeyring"): "KWallet",
    ("keyring.backends.kwallet", "DBusKeyringKWallet4"): "KWallet",
    ("keyring.backends.macOS", "Keyring"): "macOS Keychain",
    ("keyring.backends.Windows", "WinVaultKeyring"): "Windows Credential Locker",
}
"""(module, class) of the keyring backends that really keep secrets → the name we show.

Anything else (keyrings.alt's plaintext/"encrypted" files, the fail and null backends, third
party backends) is not "the system keyring": the 0600 file is used instead, and says so.
"""


def _secure_name(backend: object) -> str | None:
    cls = type(backend)
    return SECURE_BACKENDS.get((cls.__module__, cls.__qualname__))


def _secure_backend(backend: object) -> tuple[Any, str] | None:
    """``backend`` (or, for a chainer, its best secure member) with its display name."""
    name = _secure_name(backend)
    if name is not None:
        return backend, name
    members = getattr(backend, "backends", None)
    if type(backend).__module__ == "keyring.backends.chainer" and members is not None:
        # The chainer writes to its first viable member, which may be a plaintext one: use the
        # secure member directly instead.
        ranked = sorted(members, key=lambda b: getattr(b, "priority", 0), reverse=True)
        for member in ranked:
            name = _secure_name(member)
            if name is not None:
                return member, name
    return None


def _keyring() -> tuple[Any, str] | None:
    """A working secure keyring backend and its name, else None (never raises)."""
    try:
        import keyring

        found = _secure_backend(keyring.get_keyring())
        if found is None:
            return None
        backend, name = found
        if getattr(backend, "priority", 1) <= 0:
            return None
        # A probe read: locked or absent Secret Service sessions fail here, not at store time.
        backend.get_password(KEYRING_SERVICE, "probe")
    except Exception:
        return None
    return backend, name


def keyring_available() -> bool:
    """Whether a working, secure system keyring backend is present."""
    return _keyring() is not None


def keyring_backend_name() -> str | None:
    """The display name of the keyring backend in use (``SecretService``…), or None."""
    found = _keyring()
    return None if found is None else found[1]


def _kr_get(user: str) -> str | None:
    found = _keyring()
    if found is None:
        return None
    try:
        value = found[0].get_password(KEYRING_SERVICE, user)
    except Exception:
        return None
    return value if isinstance(value, str) and value else None


def _kr_set(user: str, value: str) -> bool:
    found = _keyring()
    if found is None:
        return False
    try:
        found[0].set_password(KEYRING_SERVICE, user, value)
    except Exception:
        return False
    return True


def _kr_delete(user: str) -> bool:
    found = _keyring()
    if found is None:
        return False
    backend = found[0]
    try:
        if backend.get_password(KEYRING_SERVICE, user) is None:
            return False
        backend.delete_password(KEYRING_SERVICE, user)
    except Exception:
        return False
    return True


# --- file ------------------------------------------------------------------------------------


def check_token_file(paths: Paths) -> None:
    """Raise AuthError if the token file exists and group or others may read or write it."""
    path = paths.token_file
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    if st.st_mode & 0o077:
        raise AuthError(
            f"refusing to use the token file {path}: its mode is "
            f"{stat.S_IMODE(st.st_mode):04o}, so other users can read it",
            hint=f"run `chmod 600 {path}` (and consider the token leaked: re-issue it)",
        )


def _read_file(paths: Paths) -> dict[str, Any]:
    check_token_file(paths)
    path = paths.token_file
    try:
        raw = read_bounded_text(path, TOKEN_FILE_LIMIT, "the token file", error=AuthError)
    except FileNotFoundError:
        return {"version": _FILE_VERSION, "pages": {}}
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested thousands deep
        raise AuthError(
            f"the token file {path} is damaged (not JSON)",
            hint="remove it and run `socialdesk auth login` again",
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("pages", {}), dict):
        raise AuthError(
            f"the token file {path} has an unexpected shape",
            hint="remove it and run `socialdesk auth login` again",
        )
    doc.setdefault("pages", {})
    return doc


def _write_file(paths: Paths, doc: dict[str, Any]) -> None:
    # 0700 for the directory and any parent it needs (a new SOCIALDESK_HOME); an existing
    # secrets directory is ours alone, so it is tightened.
    make_private_dir(paths.token_dir, tighten=True)
    doc["version"] = _FILE_VERSION
    atomic_write(paths.token_file, (json.dumps(doc, indent=1) + "\n").encode(), mode=0o600)


def _file_get(paths: Paths, page_id: str) -> str | None:
    value = _read_file(paths)["pages"].get(page_id)
    if not isinstance(value, str) or not value:
        return None
    return check_token(value, f"the token file {paths.token_file} (page {page_id})")


# --- public API ------------------------------------------------------------------------------


def _validate(secret: str, what: str) -> str:
    value = secret.strip()
    if not value:
        raise UsageError(f"the {what} is empty")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise UsageError(
            f"the {what} contains spaces or control characters",
            hint="paste the token alone, on one line",
        )
    return value


_TOKEN_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F))
"""Printable ASCII without space: every character an access token (or app secret) may hold."""


def check_token(value: str, source: str) -> str:
    """``value`` if it holds only printable ASCII and no whitespace, else AuthError naming
    ``source`` (never the value).

    A token with a CR/LF would otherwise break the ``Authorization`` header: httpx refuses it
    as a protocol error, which looked like a network failure and was retried six times.
    """
    bad = next((ch for ch in value if ch not in _TOKEN_CHARS), None)
    if bad is None:
        return value
    if bad in "\r\n":
        what = "a line break"
    elif bad.isspace():
        what = "whitespace"
    elif ord(bad) < 0x80:
        what = "a control character"
    else:
        what = "a non-ASCII character"
    raise AuthError(
        f"the token from {source} contains {what}, so it cannot be a valid token",
        hint="store the token alone, on one line, exactly as Meta shows it",
    )


def _env_secret(var: str) -> str | None:
    value = os.environ.get(var, "").strip()
    return check_token(value, var) if value else None


def env_token() -> str | None:
    """``SOCIALDESK_TOKEN`` (outer whitespace stripped) or None; AuthError if it is malformed."""
    return _env_secret(TOKEN_ENV)


def _keyring_label(page_id: str) -> str:
    return f"the system keyring ({KEYRING_SERVICE}/{_page_user(page_id)})"


def token_info(paths: Paths, page_id: str) -> TokenInfo | None:
    """Where the token for ``page_id`` would be read from, or None when there is none."""
    if os.environ.get(TOKEN_ENV, "").strip():
        return TokenInfo("env", TOKEN_ENV)
    if _kr_get(_page_user(page_id)) is not None:
        return TokenInfo(
            "keyring",
            f"keyring:{KEYRING_SERVICE}/{_page_user(page_id)}",
            backend=keyring_backend_name(),
        )
    if _file_get(paths, page_id) is not None:
        return TokenInfo("file", str(paths.token_file))
    return None


def load_token(paths: Paths, page_id: str) -> str | None:
    """The token for ``page_id``: ``SOCIALDESK_TOKEN``, else keyring, else the 0600 file.

    A token holding whitespace, control or non-ASCII characters is an AuthError naming where
    it came from (see :func:`check_token`).
    """
    env = env_token()
    if env:
        return env
    stored = _kr_get(_page_user(page_id))
    if stored is not None:
        return check_token(stored, _keyring_label(page_id))
    return _file_get(paths, page_id)


def store_token(
    paths: Paths, page_id: str, token: str, *, use_keyring: bool = True
) -> SecretSource:
    """Keep ``token`` for ``page_id`` in the keyring, else the file; returns where it went.

    ``use_keyring=False`` forces the file (the demo's throwaway sandbox tokens must not end
    up in the user's system keyring).
    """
    value = _validate(token, "token")
    if use_keyring and _kr_set(_page_user(page_id), value):
        # A stale copy in the file would survive a later keyring failure: drop it.
        _file_remove(paths, pages=[page_id])
        return "keyring"
    doc = _read_file(paths)
    doc["pages"][page_id] = value
    _write_file(paths, doc)
    return "file"


def delete_token(paths: Paths, page_id: str) -> bool:
    """Forget the stored token of ``page_id`` (keyring and file); True if one was removed."""
    removed = _kr_delete(_page_user(page_id))
    return _file_remove(paths, pages=[page_id]) or removed


def stored_page_ids(paths: Paths) -> list[str]:
    """Page ids with a token in the file (keyring entries cannot be listed portably)."""
    return sorted(_read_file(paths)["pages"])


def _file_remove(paths: Paths, *, pages: Sequence[str] = (), app_secret: bool = False) -> bool:
    if not paths.token_file.exists():
        return False
    doc = _read_file(paths)
    changed = False
    for page_id in pages:
        if doc["pages"].pop(page_id, None) is not None:
            changed = True
    if app_secret and doc.pop("app_secret", None) is not None:
        changed = True
    if changed:
        _write_file(paths, doc)
    return changed


def load_app_secret(paths: Paths) -> str | None:
    """The app secret (enables ``appsecret_proof``): env, else keyring, else the file."""
    env = _env_secret(APP_SECRET_ENV)
    if env:
        return env
    value = _kr_get(_APP_SECRET_USER)
    if value:
        return check_token(value, f"the system keyring ({KEYRING_SERVICE}/{_APP_SECRET_USER})")
    stored = _read_file(paths).get("app_secret")
    if not isinstance(stored, str) or not stored:
        return None
    return check_token(stored, f"the token file {paths.token_file} (app secret)")


def store_app_secret(paths: Paths, secret: str) -> SecretSource:
    """Keep the app secret in the keyring, else the file; returns where it went."""
    value = _validate(secret, "app secret")
    if _kr_set(_APP_SECRET_USER, value):
        _file_remove(paths, app_secret=True)
        return "keyring"
    doc = _read_file(paths)
    doc["app_secret"] = value
    _write_file(paths, doc)
    return "file"


def delete_app_secret(paths: Paths) -> bool:
    """Forget the stored app secret; True if one was removed."""
    removed = _kr_delete(_APP_SECRET_USER)
    return _file_remove(paths, app_secret=True) or removed
