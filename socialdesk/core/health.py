"""Health checks: setup, token, permissions, sync, rate limits, database and file modes.

Called by ``doctor`` and the inbox (header and health screen). Each :class:`Check` is ``ok``,
``warn`` or ``fail`` with one line of detail (already cleaned: it may quote API text): whether
the config file exists, the Graph API base URL in use, the keyring, the page, the token
(present, valid per ``/debug_token``, not expired), the scopes against
:data:`socialdesk.models.REQUIRED_SCOPES`, the page being reachable, rate-limit headroom from the
latest usage headers, ``PRAGMA integrity_check``, the last sync per edge, and the modes of the
files and directories socialdesk keeps (0600 / 0700 expected). :func:`edge_states` is the sync
part alone, for the inbox header.
"""

from __future__ import annotations

import sqlite3
import stat
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from socialdesk import secrets
from socialdesk.config import PageConfig
from socialdesk.core.context import GRAPH_URL_ENV, AppContext
from socialdesk.errors import ExitCode, SocialdeskError
from socialdesk.format import human_duration
from socialdesk.models import REQUIRED_SCOPES, RateUsage, TokenInfo
from socialdesk.sanitize import clean

if TYPE_CHECKING:
    from socialdesk.api.client import GraphClient

__all__ = ["STALE_SYNC", "Check", "EdgeState", "HealthReport", "edge_states", "run_checks"]

Status = Literal["ok", "warn", "fail"]

STALE_SYNC = timedelta(hours=24)
"""A successful sync older than this is a warning."""


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    status: Status
    detail: str
    auth: bool = False
    """A failure here means the token: ``doctor`` exits 3."""


@dataclass
class HealthReport:
    """Every check, in order."""

    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, status: Status, detail: str, *, auth: bool = False) -> None:
        self.checks.append(Check(name, status, clean(detail, single_line=True), auth))

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.status == "warn"]

    @property
    def exit_code(self) -> ExitCode:
        """0 when nothing failed, 3 when a token check failed, else 1."""
        if not self.failed:
            return ExitCode.OK
        return ExitCode.AUTH if any(c.auth for c in self.failed) else ExitCode.FAILURE


@dataclass(frozen=True)
class EdgeState:
    """The latest sync of one edge of a page."""

    edge: str
    ok: bool
    last_run_at: datetime
    last_ok_at: datetime | None
    error: str | None


def edge_states(conn: sqlite3.Connection, page_id: str) -> list[EdgeState]:
    """Per edge (conversations, feed…): did its latest sync succeed, and when did one last."""
    from socialdesk.store.watermarks import last_syncs

    return [
        EdgeState(r.edge, r.ok, r.finished_at, r.last_ok_at, r.error)
        for _, r in sorted(last_syncs(conn, page_id).items())
    ]


def headroom(usage: RateUsage | None) -> int | None:
    """100 minus the highest usage percentage of the latest response (None: not known)."""
    return None if usage is None else max(0, 100 - usage.peak)


def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None


def _ago(now: datetime, then: datetime) -> str:
    return f"{human_duration((now - then).total_seconds())} ago"


def _check_setup(report: HealthReport, ctx: AppContext) -> None:
    import os

    config_file = ctx.paths.config_file
    if config_file.exists():
        report.add("config", "ok", str(config_file))
    else:
        report.add(
            "config",
            "warn",
            f"{config_file} does not exist: the defaults are in use; `socialdesk init` writes it",
        )
    source = (
        f"from {GRAPH_URL_ENV}"
        if os.environ.get(GRAPH_URL_ENV, "").strip()
        else "from graph.base_url"
        if ctx.config.graph.base_url
        else "the default"
    )
    report.add("graph API", "ok", f"{ctx.graph_url} ({source}), version {ctx.config.graph.version}")
    backend = secrets.keyring_backend_name()
    if backend is not None:
        report.add("keyring", "ok", f"keyring ({backend})")
    else:
        report.add(
            "keyring", "ok", f"no secure system keyring; tokens are kept in {ctx.paths.token_file}"
        )


def _check_token(report: HealthReport, ctx: AppContext, page: PageConfig) -> str | None:
    from socialdesk.errors import AuthError

    try:
        info = secrets.token_info(ctx.paths, page.id)
        token = secrets.load_token(ctx.paths, page.id)
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


def _check_api(report: HealthReport, ctx: AppContext, page: PageConfig, token: str) -> None:
    from socialdesk.api import graph
    from socialdesk.api.errors import GraphError, TokenInvalid

    client = ctx.client_for_token(token)
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
                    "the API says the token is invalid; run `socialdesk auth login --page-id "
                    f"{page.id}`",
                    auth=True,
                )
                return
            expiry = "never expires"
            if info.expires_at is not None:
                if info.expires_at - ctx.clock.now() <= timedelta(0):
                    report.add("token valid", "fail", "the token has expired", auth=True)
                    return
                expiry = f"expires {info.expires_at:%Y-%m-%d %H:%M} UTC"
            report.add("token valid", "ok", f"{info.type.lower() or 'unknown'} token, {expiry}")
            missing = [s for s in REQUIRED_SCOPES if s not in info.scopes]
            if missing:
                report.add("scopes", "warn", "missing " + ", ".join(missing))
            else:
                report.add("scopes", "ok", ", ".join(REQUIRED_SCOPES))
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
        _check_usage(report, client.usage)
        _check_instagram(report, ctx, page, client, info)
    finally:
        client.close()


def _check_instagram(
    report: HealthReport,
    ctx: AppContext,
    page: PageConfig,
    client: GraphClient,
    info: TokenInfo | None,
) -> None:
    """The linked Instagram account (found again and stored) and its prerequisites."""
    from socialdesk.api import graph_ig
    from socialdesk.api.errors import GraphError
    from socialdesk.core import instagram

    try:
        account = graph_ig.get_instagram_account(client, page.id)
    except GraphError as exc:
        report.add(
            "instagram",
            "warn",
            f"could not ask the Page for its Instagram account: {exc.message}; {exc.hint or ''}",
        )
        return
    if ctx.paths.db_file.exists():  # doctor never creates the database
        try:
            with closing(ctx.connect()) as conn:
                instagram.record(conn, page.id, account, now=ctx.clock.now())
        except (sqlite3.Error, SocialdeskError):
            pass  # the database check below reports it
    for p in instagram.prerequisite_checks(client, page.id, account, info):
        report.add(p.name, p.status, p.detail)


def _check_usage(report: HealthReport, usage: RateUsage | None) -> None:
    if usage is None:
        report.add("rate limit", "ok", "no usage reported (0 %)")
        return
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


def _check_database(report: HealthReport, ctx: AppContext, page: PageConfig | None) -> None:
    from socialdesk.store.health import integrity_problems

    if not ctx.paths.db_file.exists():
        report.add("database", "warn", "no database yet; run `socialdesk sync`")
        return
    try:
        with closing(ctx.connect()) as conn:
            problems = integrity_problems(conn)
            if problems:
                report.add(
                    "database integrity", "fail", "PRAGMA integrity_check: " + "; ".join(problems)
                )
            else:
                report.add("database integrity", "ok", "PRAGMA integrity_check: ok")
            if page is not None:
                _check_syncs(report, conn, page, ctx.clock.now())
    except (sqlite3.Error, SocialdeskError) as exc:
        report.add("database integrity", "fail", f"cannot check {ctx.paths.db_file}: {exc}")


def _check_syncs(
    report: HealthReport, conn: sqlite3.Connection, page: PageConfig, now: datetime
) -> None:
    states = edge_states(conn, page.id)
    if not states:
        report.add("last sync", "warn", f"page {page.name} was never synced; run `socialdesk sync`")
        return
    for st in states:
        name = f"last sync ({st.edge})"
        if st.last_ok_at is None:
            report.add(name, "fail", f"never succeeded; last error: {st.error or 'unknown'}")
        elif not st.ok:
            report.add(
                name,
                "warn",
                f"last run failed ({st.error or 'unknown'}); last success "
                f"{_ago(now, st.last_ok_at)}",
            )
        elif now - st.last_ok_at > STALE_SYNC:
            report.add(name, "warn", f"last success {_ago(now, st.last_ok_at)}")
        else:
            report.add(name, "ok", f"last success {_ago(now, st.last_ok_at)}")


def _check_files(report: HealthReport, ctx: AppContext) -> None:
    paths = ctx.paths
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


def run_checks(ctx: AppContext, page_ref: str | None) -> HealthReport:
    """Every check, in order (the page-dependent ones are skipped when no page resolves)."""
    report = HealthReport()
    _check_setup(report, ctx)
    page: PageConfig | None = None
    try:
        page = ctx.page(page_ref)
    except SocialdeskError as exc:
        report.add("page", "fail", f"{exc.message}; {exc.hint or ''}", auth=exc.exit_code == 3)
    if page is not None:
        report.add("page", "ok", f"{page.name} ({page.id})")
        token = _check_token(report, ctx, page)
        if token is not None:
            _check_api(report, ctx, page, token)
    _check_database(report, ctx, page)
    _check_files(report, ctx)
    return report


def config_failure(exc: SocialdeskError) -> HealthReport:
    """The report when the config file cannot even be read (nothing else can be checked)."""
    report = HealthReport()
    report.add("config", "fail", f"{exc.message}; {exc.hint or ''}")
    return report
