"""Where socialdesk keeps its files. Every other module asks here.

With ``SOCIALDESK_HOME`` set, everything (config, database, token file, logs) lives in that one
directory: tests, profiles and the demo use it. Otherwise the platform's config and data
directories (platformdirs) are used:

- config: ``<config dir>/config.toml``
- data: ``<data dir>/socialdesk.db``, ``<data dir>/secrets/tokens.json`` (when no keyring works),
  ``<data dir>/logs/``, ``<data dir>/locks/``

Directories socialdesk creates are 0700 and its files 0600: they hold customers' messages and
possibly the token.

:func:`atomic_write` is the one way files we own (config, token file, exports) are written.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "socialdesk"


@dataclass(frozen=True)
class Paths:
    """The resolved file locations of one socialdesk home."""

    config_dir: Path
    data_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def db_file(self) -> Path:
        return self.data_dir / "socialdesk.db"

    @property
    def token_dir(self) -> Path:
        """A 0700 directory holding the token file when no keyring works."""
        return self.data_dir / "secrets"

    @property
    def token_file(self) -> Path:
        return self.token_dir / "tokens.json"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def lock_dir(self) -> Path:
        return self.data_dir / "locks"

    def lock_file(self, name: str) -> Path:
        """A lock file for ``name`` (e.g. ``sync-<page id>``)."""
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
        return self.lock_dir / f"{safe}.lock"

    def ensure(self) -> None:
        """Create the directories, 0700 (private to the user), missing parents included.

        Existing directories keep their mode (``SOCIALDESK_HOME`` may name a directory the user
        shares on purpose); ``doctor`` warns when the data directory is readable by others.
        The locks directory is ours alone, so it is tightened if needed.
        """
        make_private_dir(self.config_dir)
        make_private_dir(self.data_dir)
        make_private_dir(self.lock_dir, tighten=True)


def make_private_dir(path: Path, *, tighten: bool = False) -> None:
    """Create ``path`` and any missing parent with mode 0700; ``tighten`` chmods an existing one.

    ``Path.mkdir(parents=True, mode=...)`` applies ``mode`` to the last component only: parents
    (e.g. a new ``SOCIALDESK_HOME`` above ``secrets/``) would get the umask's 0755.
    """
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        # A concurrent command may create it meanwhile.
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=0o700)
    if tighten:
        try:
            if stat.S_IMODE(path.stat().st_mode) != 0o700:
                os.chmod(path, 0o700)
        except OSError:
            pass  # not ours (or vanished): the caller's own checks report it


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` atomically: temp file in the same directory, fsync, rename.

    The file is created with ``mode`` (0600 by default) before any byte is written, so there is
    no window in which others can read it.
    """
    make_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def resolve_paths(home: str | os.PathLike[str] | None = None) -> Paths:
    """The paths for ``home``, else ``SOCIALDESK_HOME``, else the platform directories."""
    chosen = home if home is not None else os.environ.get("SOCIALDESK_HOME")
    if chosen:
        root = Path(chosen).expanduser().resolve()
        return Paths(config_dir=root, data_dir=root)
    # Imported here so that `import socialdesk.paths` stays cheap for the common env-var case.
    import platformdirs

    return Paths(
        config_dir=Path(platformdirs.user_config_dir(APP_NAME)),
        data_dir=Path(platformdirs.user_data_dir(APP_NAME)),
    )
