"""Where socialdesk keeps its files. Every other module asks here.

With ``SOCIALDESK_HOME`` set, everything (config, database, token file, logs) lives in that one
directory: tests, profiles and the demo use it. Otherwise the platform's config and data
directories (platformdirs) are used:

- config: ``<config dir>/config.toml``
- data: ``<data dir>/socialdesk.db``, ``<data dir>/secrets/tokens.json`` (when no keyring works),
  ``<data dir>/logs/``, ``<data dir>/locks/``

Directories socialdesk creates are 0700 and its files 0600: they hold customers' messages and
possibly the token.

:func:`atomic_write` is the one way files we own (config, token file, exports) are written,
and :func:`read_bounded` the one way the files socialdesk reads whole (config, token file, ack
plans) are read: regular files only, up to a size limit, so a config symlinked to
``/dev/zero``, a FIFO or a 200 MB file is a clear error instead of a hang or a memory spike.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from socialdesk.errors import SocialdeskError, UsageError

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


class WriteFailed(SocialdeskError):
    """A file socialdesk writes (config, token file, export, plan) could not be written: exit 1.

    ``reason`` is ``disk_full``, ``read_only``, ``permission`` or ``io_error``.
    """

    @classmethod
    def of(cls, path: Path, exc: OSError, *, what: str = "write") -> WriteFailed:
        """The error for ``exc`` raised while writing (or creating) ``path``."""
        folder = path.parent
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return cls(
                f"cannot {what} {path}: the disk is full ({exc.strerror})",
                hint=f"free space on the disk holding {folder} and run the command again"
                + (f"; any previous {path.name} is unchanged" if what == "write" else ""),
                reason="disk_full",
            )
        if exc.errno == errno.EROFS:
            reason, why = "read_only", "the file system is read-only"
        elif exc.errno in (errno.EACCES, errno.EPERM):
            reason, why = "permission", f"{folder} is not writable by you"
        else:
            reason, why = "io_error", exc.strerror or str(exc)
        if what != "write":
            hint = f"make {folder} writable by you, or set SOCIALDESK_HOME to a directory you own"
        else:
            hint = (
                f"check {folder} (it must exist and be writable by you); any previous "
                f"{path.name} is unchanged"
            )
        return cls(f"cannot {what} {path}: {why}", hint=hint, reason=reason)


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
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise WriteFailed.of(directory, exc, what="create the directory") from None
    if tighten:
        try:
            if stat.S_IMODE(path.stat().st_mode) != 0o700:
                os.chmod(path, 0o700)
        except OSError:
            pass  # not ours (or vanished): the caller's own checks report it


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` atomically: temp file in the same directory, fsync, rename.

    The file is created with ``mode`` (0600 by default) before any byte is written, so there is
    no window in which others can read it. A failure (a full disk, a read-only directory) is a
    :class:`WriteFailed` naming the file; the previous ``path``, if any, is left as it was.
    """
    try:
        make_private_dir(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise WriteFailed.of(path, exc) from None
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise WriteFailed.of(path, exc) from None
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


KIB = 1024
MIB = 1024 * KIB

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _size(n: int) -> str:
    return f"{n / MIB:.1f} MiB" if n >= MIB else f"{n / KIB:.0f} KiB" if n >= KIB else f"{n} B"


def read_bounded(
    path: Path,
    limit: int,
    what: str,
    *,
    error: type[SocialdeskError] = UsageError,
) -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes; ``error`` otherwise.

    ``what`` names the file in messages ("the config file"). The rules:

    - only a regular file is read: a directory, FIFO, device or socket is refused without
      blocking (the open is non-blocking, so a FIFO with no writer cannot hang us);
    - a symlink is followed only to a regular file owned by the user running socialdesk
      (a dotfiles checkout is fine; a link to someone else's file is refused, so another
      user cannot feed us a file of theirs, nor learn anything from our errors but its owner);
    - at most ``limit`` bytes are read, whatever the file claims: one that is longer (or grows
      while read) is refused rather than truncated.

    :class:`FileNotFoundError` is raised as is (callers decide what "missing" means); any other
    :class:`OSError` becomes ``error`` naming the file.
    """
    try:
        is_link = path.is_symlink()
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise error(
            f"{path}: {what} cannot be read ({exc.strerror or exc})",
            hint=f"check the permissions of {path}",
            reason="unreadable",
        ) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(
                f"{path}: {what} is {_kind(st.st_mode)}, not a regular file",
                hint=f"replace {path} with a regular file (or remove it)",
                reason="not_regular_file",
            )
        if is_link and st.st_uid != os.geteuid():
            target = os.path.realpath(path)
            raise error(
                f"{path}: {what} is a symlink to {target}, which belongs to another user "
                f"(uid {st.st_uid})",
                hint="socialdesk follows a symlink only to a file you own: copy the file instead",
                reason="foreign_symlink",
            )
        if st.st_size > limit:
            raise error(
                f"{path}: {what} is {_size(st.st_size)}; socialdesk reads at most {_size(limit)}",
                hint=f"is {path} the right file?",
                reason="too_large",
            )
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(limit + 1 - total, 1 * MIB))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise error(
                f"{path}: {what} is over {_size(limit)} (it grew while being read)",
                hint=f"is {path} the right file?",
                reason="too_large",
            )
        return b"".join(chunks)
    except OSError as exc:
        raise error(
            f"{path}: {what} cannot be read ({exc.strerror or exc})",
            hint=f"check the disk and the permissions of {path}",
            reason="unreadable",
        ) from None
    finally:
        os.close(fd)


def read_bounded_text(
    path: Path,
    limit: int,
    what: str,
    *,
    error: type[SocialdeskError] = UsageError,
) -> str:
    """:func:`read_bounded`, decoded as UTF-8 (``error`` if it is not)."""
    data = read_bounded(path, limit, what, error=error)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise error(
            f"{path}: {what} is not UTF-8 text",
            hint=f"is {path} the right file?",
            reason="not_text",
        ) from None
