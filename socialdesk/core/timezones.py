"""Time zones by IANA name: the one loader, and the system's own zone for ``init``'s default.

Called by ``core.stats`` (days are local days in ``stats.timezone``), ``core.triage`` (snooze
times like ``tomorrow 9:00`` are read in that zone) and ``init`` (which offers the system's zone).
``config`` validates the name when the file is read, so :func:`load_timezone` only fails for a
name that reached it another way.
"""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from socialdesk.errors import UsageError

__all__ = ["load_timezone", "system_timezone"]


def load_timezone(name: str) -> ZoneInfo:
    """The IANA timezone ``name``; a :class:`UsageError` naming it when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise UsageError(
            f"unknown timezone {name!r} (stats.timezone)",
            hint='use an IANA name such as "Europe/Warsaw" or "UTC"',
        ) from exc


def system_timezone(localtime: Path = Path("/etc/localtime")) -> str:
    """The IANA name of this system's zone (``TZ``, else the ``/etc/localtime`` link), else UTC."""
    names = available_timezones()
    tz = os.environ.get("TZ", "").lstrip(":").strip()
    if tz in names:
        return tz
    try:
        target = str(localtime.resolve())
    except OSError:
        return "UTC"
    marker = "zoneinfo/"
    if marker in target:
        name = target.rsplit(marker, 1)[1]
        if name in names:
            return name
    return "UTC"
