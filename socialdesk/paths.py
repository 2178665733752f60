"""Where socialdesk keeps its files. Every other module asks here.

With ``SOCIALDESK_HOME`` set, everything (config, database, token file, logs) lives in that one
directory: tests, profiles and the demo use it. Otherwise the platform's config and data
directories (platformdirs) are used:

- config: ``<config dir>/config.toml``
- data: ``<data dir>/socialdesk.db``, ``<data dir>/token``, ``<data dir>/logs/``, lock files
"""

from __future__ import annotations

import os
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

    def lock_file(self, name: str) -> Path:
        """A lock file for ``name`` (e.g. ``sync-<page id>``)."""
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
        return self.data_dir / "locks" / f"{safe}.lock"

    def ensure(self) -> None:
        """Create the directories (data private to the user)."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)


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
