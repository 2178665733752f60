"""``socialdesk doctor``: tell the truth about setup and sync health.

Each check is ``ok``, ``warn`` or ``fail`` with one line of detail: the config, the page, the
token (present, file permissions, valid per ``/debug_token``), the page being reachable, the
scopes the API reports against the ones socialdesk needs, the last successful sync per edge,
rate-limit headroom from the latest usage headers, ``PRAGMA integrity_check``, file
permissions and the modes of the directories socialdesk keeps them in (0700 expected), and which
keyring backend (or the file) holds the tokens. Exit 0 when nothing fails; 3 when a token
check fails; otherwise 1.
"""

from __future__ import annotations

import stat
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from socialdesk.cli.app import app

if TYPE_CHECKING:
    from socialdesk.config import PageConfig
    from socialdesk.core.session import Session

Status = Literal["ok", "warn", "fail"]

STALE_SYNC = timedelta(hours=24)
"""A successful sync older than this is a warning."""


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    status: Status
    detail: str
    auth: bool = False
    """A failure here means the token: exit 3."""


class _Report:
    def __init__(self) -> None:
        self.checks: list[Check] = []

    def add(self, name: str, status: Status, detail: str, *, auth: bool = False) -> Check:
        from socialdesk.sanitize import clean

        check = Check(name, status, clean(detail, single_line=True), auth)
        self.checks.append(check)
        return check


def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None


def _ago(now: datetime, then: datetime) -> str:
    from socialdesk.cli.output import human_duration

    return f"{human_duration((now - then).total_seconds())} ago"


def _check_files(report: _Report, session: Session) -> None:
    paths = session.paths
    for label, path, strict in (
        ("config file", paths.config_file, False),
        ("database file", paths.db_file, False),
        ("token file", paths.token_file, True),
    ):
        mode = _mode(path)
        if mode is None:
            continue
        if mode & 0o077:
            report.add(
                f"{label} permissions",
                "fail" if strict else "warn",
                f"{path} is {mode:04o}: others can read it; run `chmod 600 {path}`",
                auth=strict,
            )
        else:
            report.add(f"{label} permissions", "ok", f"{path} is {mode:04o}")
    dirs = [("data directory", paths.data_dir)]
    if paths.config_dir != paths.data_dir:
        dirs.append(("config directory", paths.config_dir))
    dirs += [("secrets directory", paths.token_dir), ("locks directory", paths.lock_dir)]
    for label, path in dirs:
        mode = _mode(path)
        if mode is None:
            continue
        if mode & 0o077:
            report.add(
                f"{label} permissions",
                "warn",
                f"{path} is {mode:04o}: other users can list or enter it; run `chmod 700 {path}`",
            )
        else:
            report.add(f"{label} permissions", "ok", f"{path} is {mode:04o}")


def _check_token(report: _Report, session: Session, page: PageConfig) -> str | None:
    from socialdesk import secrets
    from socialdesk.errors import AuthError

    try:
        info = secrets.token_info(session.paths, page.id)
        token = secrets.load_token(session.paths, page.id)
    except AuthError as exc:
        report.add("token", "fail", f"{exc.message}; {exc.hint or ''}", auth=True)
        return None
    if info is None or not token:
        report.add(
            "token",
            "fail",
            f"no token for page {page.id}; run `socialdesk auth login --page-id {page.id}`",
            auth=True,
        )
        return None
    report.add("token", "ok", f"from {info.describe}")
    return token


def _check_api(report: _Report, session: Session, page: PageConfig, token: str) -> None:
    from socialdesk.api import graph
    from socialdesk.api.errors import GraphError, TokenInvalid
    from socialdesk.cli.cmd_auth import NEEDED_SCOPES

    client = session.client_for_token(token)
    try:
        try:
            info = graph.debug_token(client, token)
        except TokenInvalid as exc:
            report.add("token valid", "fail", f"{exc.message} — {exc.hint or ''}", auth=True)
            return
        except GraphError as exc:
            report.add("token valid", "warn", f"/debug_token failed: {exc.message}")
            info = None
        if info is not None:
            if not info.is_valid:
                report.add(
                    "token valid",
                    "fail",
                    f"the API says the token is invalid; run `socialdesk auth login --page-id "
                    f"{page.id}`",
                    auth=True,
                )
                return
            expiry = "never expires"
            if info.expires_at is not None:
                left = info.expires_at - session.clock.now()
                if left <= timedelta(0):
                    report.add("token valid", "fail", "the token has expired", auth=True)
                    return
                expiry = f"expires {info.expires_at:%Y-%m-%d %H:%M} UTC"
            report.add("token valid", "ok", f"{info.type.lower() or 'unknown'} token, {expiry}")
            missing = [s for s in NEEDED_SCOPES if s not in info.scopes]
            if missing:
                report.add("scopes", "warn", "missing " + ", ".join(missing))
            else:
                report.add("scopes", "ok", ", ".join(s for s in NEEDED_SCOPES))
        try:
            me = graph.get_me(client)
        except TokenInvalid as exc:
            report.add("page reachable", "fail", exc.message, auth=True)
            return
        except GraphError as exc:
            report.add("page reachable", "fail", exc.message)
            return
        if me.id != page.id:
            report.add(
                "page reachable",
                "fail",
                f"the token belongs to page {me.id}, not {page.id}",
                auth=True,
            )
        else:
            report.add("page reachable", "ok", f"{me.name} ({me.id})")
        usage = client.usage
        if usage is None:
            report.add("rate limit", "ok", "no usage reported (0 %)")
        else:
            peak = usage.peak
            detail = (
                f"{peak} % of the limit used (calls {usage.call_count} %, time "
                f"{usage.total_time} %, cpu {usage.total_cputime} %)"
            )
            if usage.regain_access_minutes or peak >= 100:
                report.add(
                    "rate limit",
                    "fail",
                    f"{detail}; throttled, access back in ~{usage.regain_access_minutes} min",
                )
            else:
                report.add("rate limit", "warn" if peak >= 75 else "ok", detail)
    finally:
        client.close()


def _check_database(report: _Report, session: Session, page: PageConfig | None) -> None:
    import sqlite3

    from socialdesk.errors import SocialdeskError

    if not session.paths.db_file.exists():
        report.add("database", "warn", "no database yet; run `socialdesk sync`")
        return
    try:
        rows = session.db.execute("PRAGMA integrity_check").fetchall()
    except (sqlite3.Error, SocialdeskError) as exc:
        report.add("database integrity", "fail", f"cannot check: {exc}")
        return
    result = "; ".join(str(r[0]) for r in rows[:5])
    if result == "ok":
        report.add("database integrity", "ok", "PRAGMA integrity_check: ok")
    else:
        report.add("database integrity", "fail", f"PRAGMA integrity_check: {result}")
    if page is not None:
        _check_syncs(report, session, page)


def _check_syncs(report: _Report, session: Session, page: PageConfig) -> None:
    from socialdesk.store.watermarks import last_syncs

    runs = last_syncs(session.db, page.id)
    if not runs:
        report.add("last sync", "warn", f"page {page.name} was never synced; run `socialdesk sync`")
        return
    now = session.clock.now()
    for edge, run in sorted(runs.items()):
        name = f"last sync ({edge})"
        if run.last_ok_at is None:
            report.add(name, "fail", f"never succeeded; last error: {run.error or 'unknown'}")
        elif not run.ok:
            report.add(
                name,
                "warn",
                f"last run failed ({run.error or 'unknown'}); last success "
                f"{_ago(now, run.last_ok_at)}",
            )
        elif now - run.last_ok_at > STALE_SYNC:
            report.add(name, "warn", f"last success {_ago(now, run.last_ok_at)}")
        else:
            report.add(name, "ok", f"last success {_ago(now, run.last_ok_at)}")


def run_checks(session: Session, page_ref: str | None) -> list[Check]:
    """Every check, in order (the page-dependent ones are skipped when no page resolves)."""
    from socialdesk import secrets
    from socialdesk.errors import SocialdeskError

    report = _Report()
    report.add("config", "ok", f"{session.paths.config_file}")
    backend = secrets.keyring_backend_name()
    if backend is not None:
        report.add("keyring", "ok", f"keyring ({backend})")
    else:
        report.add(
            "keyring",
            "ok",
            f"no secure system keyring; tokens are kept in file {session.paths.token_file}",
        )
    page: PageConfig | None = None
    try:
        page = session.page(page_ref)
    except SocialdeskError as exc:
        report.add("page", "fail", f"{exc.message}; {exc.hint or ''}", auth=exc.exit_code == 3)
    if page is not None:
        report.add("page", "ok", f"{page.name} ({page.id})")
        token = _check_token(report, session, page)
        if token is not None:
            _check_api(report, session, page, token)
    _check_database(report, session, page)
    _check_files(report, session)
    return report.checks


@app.command()
def doctor(
    page: Annotated[
        str | None, typer.Option("--page", help="Page name or id (default: the default page).")
    ] = None,
    json_: Annotated[
        bool, typer.Option("--json", help="Machine-readable output on stdout.")
    ] = False,
) -> None:
    """Check token, page, permissions, sync health, rate limits, database and file permissions."""
    from socialdesk.cli.output import console, customer_text, make_table, print_json
    from socialdesk.config import load_config
    from socialdesk.core.session import Session
    from socialdesk.errors import ConfigError, ExitCode
    from socialdesk.paths import resolve_paths

    paths = resolve_paths()
    try:
        config = load_config(paths)
    except ConfigError as exc:
        checks = [Check("config", "fail", f"{exc.message}; {exc.hint or ''}")]
    else:
        with Session(paths, config) as session:
            checks = run_checks(session, page)
    failed = [c for c in checks if c.status == "fail"]
    if json_:
        print_json({"ok": not failed, "checks": [asdict(c) for c in checks]})
    else:
        table = make_table("check", "status", ("detail", {"overflow": "fold"}))
        styles = {"ok": "green", "warn": "yellow", "fail": "bold red"}
        for c in checks:
            table.add_row(
                customer_text(c.name),
                customer_text(c.status, style=styles[c.status]),
                customer_text(c.detail),
            )
        console().print(table)
        warned = sum(c.status == "warn" for c in checks)
        typer.echo(
            f"{len(failed)} failed, {warned} warnings."
            if failed or warned
            else "Everything looks fine."
        )
    if failed:
        code = ExitCode.AUTH if any(c.auth for c in failed) else ExitCode.FAILURE
        raise typer.Exit(int(code))
