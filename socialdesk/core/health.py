"""Health checks: setup, token, permissions, sync, rate limits, database and file modes.

Called by ``doctor`` and the inbox (header and health screen). Each :class:`Check` is ``ok``,
``warn`` or ``fail`` with one line of detail (already cleaned: it may quote API text): whether
the config file exists, the Graph API base URL in use, the keyring, the page, the token
(present; a Page token of this Page per ``/me`` and the Page node; each capability socialdesk
needs per one read; valid, not expired and its scopes per ``/debug_token`` only when the app id
and secret were given, else said not checked), the scopes against
:data:`socialdesk.models.REQUIRED_SCOPES`, the page being reachable, rate-limit headroom from the
latest usage headers, ``PRAGMA integrity_check``, the last sync per edge, and the modes of the
files and directories socialdesk keeps (0600 / 0700 expected). The sync part shows each edge's
state (``core.syncing.edge_states``, re-exported as :func:`edge_states` for the inbox header:
failing since, cause, fix, exit code) and the interval a watch would use now with its reason
(``core.syncing.watch_advice``). :func:`probe` is ``doctor --probe``: the questions only a live
Page can settle, asked with reads only (``api.probes``).
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
from socialdesk.store.watermarks import edge_states

if TYPE_CHECKING:
    from socialdesk.api.client import GraphClient
    from socialdesk.api.probes import ProbeResult

__all__ = [
    "STALE_SYNC",
    "Check",
    "HealthReport",
    "ProbeReport",
    "edge_states",
    "probe",
    "run_checks",
]

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


FRESH_USAGE = timedelta(hours=1)
"""How old logged usage headers may be and still stand for "now" (Meta's windows roll)."""


def current_usage(
    conn: sqlite3.Connection, page_id: str, live: RateUsage | None, *, now: datetime
) -> RateUsage | None:
    """The usage headers of this process's latest response, else the latest a sync logged in
    the last hour (so a front end that has made no call yet still shows the headroom)."""
    if live is not None:
        return live
    from socialdesk.store.watermarks import latest_usage

    latest = latest_usage(conn, page_id)
    if latest is None or now - latest[0] > FRESH_USAGE:
        return None
    return latest[1]


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
    """The token and the Page, checked as a real user's token can be (``core.auth.check_token``:
    ``/me``, the Page node, one read per capability; ``debug_token`` only with the app token),
    and what could not be checked, with why."""
    from socialdesk.api.errors import GraphError, TokenInvalid
    from socialdesk.core.auth import check_token

    client = ctx.client_for_token(token)
    try:
        try:
            check = check_token(ctx, token, page.id, client=client)
        except TokenInvalid as exc:
            report.add("token valid", "fail", f"{exc.message} — {exc.hint or ''}", auth=True)
            return
        except GraphError as exc:
            report.add("page reachable", "fail", exc.message)
            return
        me = check.me
        if me is not None and me.id != page.id:
            report.add(
                "page reachable",
                "fail",
                f"the token belongs to {me.name} ({me.id}), not to page {page.id}",
                auth=True,
            )
            return
        if check.page is None or not check.is_page_token:
            report.add(
                "token valid",
                "fail",
                "not a Page access token (/me is not a Page); run `socialdesk auth login "
                f"--page-id {page.id}` with the Page's token",
                auth=True,
            )
            return
        report.add("page reachable", "ok", f"{check.page.name} ({check.page.id})")
        if not _check_token_info(report, ctx, page, check.info):
            return
        for cap in check.capabilities:
            name = {"messaging": "messaging (DMs)", "comments": "comments"}.get(cap.name, cap.name)
            if cap.ok:
                report.add(name, "ok", cap.detail)
            else:
                report.add(name, "warn", cap.detail + (f"; {cap.hint}" if cap.hint else ""))
        for item in check.unchecked:
            report.add("not checked", "warn", item)
        _check_usage(report, client.usage)
        _check_instagram(report, ctx, page, client, check.info)
    finally:
        client.close()


def _check_token_info(
    report: HealthReport, ctx: AppContext, page: PageConfig, info: TokenInfo | None
) -> bool:
    """``debug_token``'s answer (asked with the app token): validity, expiry, scopes; False when
    the token is unusable."""
    if info is None:
        report.add("token valid", "ok", "a Page token: /me is the Page")
        return True
    if not info.is_valid:
        report.add(
            "token valid",
            "fail",
            f"the API says the token is invalid; run `socialdesk auth login --page-id {page.id}`",
            auth=True,
        )
        return False
    expiry = "never expires"
    if info.expires_at is not None:
        if info.expires_at - ctx.clock.now() <= timedelta(0):
            report.add("token valid", "fail", "the token has expired", auth=True)
            return False
        expiry = f"expires {info.expires_at:%Y-%m-%d %H:%M} UTC"
    report.add("token valid", "ok", f"{info.type.lower() or 'unknown'} token, {expiry}")
    missing = [s for s in REQUIRED_SCOPES if s not in info.scopes]
    if missing:
        report.add("scopes", "warn", "missing " + ", ".join(missing))
    else:
        report.add("scopes", "ok", ", ".join(REQUIRED_SCOPES))
    return True


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
                _check_syncs(report, ctx, conn, page)
                _check_rules(report, ctx, conn, page)
    except (sqlite3.Error, SocialdeskError) as exc:
        report.add("database integrity", "fail", f"cannot check {ctx.paths.db_file}: {exc}")


def _check_syncs(
    report: HealthReport, ctx: AppContext, conn: sqlite3.Connection, page: PageConfig
) -> None:
    """Each edge's state (``core.syncing.edge_states``: last run, failing since, cause, fix,
    exit code) and the interval a watch would use now, with its reason (``watch_advice``)."""
    from socialdesk.core.syncing import watch_advice
    from socialdesk.format import iso

    now = ctx.clock.now()
    states = edge_states(conn, page.id)
    if all(st.ok is None for st in states):
        report.add("last sync", "warn", f"page {page.name} was never synced; run `socialdesk sync`")
        return
    for st in states:
        name = f"last sync ({st.edge})"
        if st.ok is None:
            report.add(name, "warn", "never ran; the next `socialdesk sync` runs it")
            continue
        skipped = f"; {st.skipped_items} unreadable items skipped" if st.skipped_items else ""
        if st.ok:
            stale = st.last_ok_at is not None and now - st.last_ok_at > STALE_SYNC
            when = _ago(now, st.last_ok_at) if st.last_ok_at is not None else "unknown"
            report.add(name, "warn" if stale else "ok", f"last success {when}{skipped}")
            continue
        since = f"failing since {iso(st.failing_since)}" if st.failing_since else "failing"
        cause = st.error or "unknown"
        fix = f"; fix: {st.hint}" if st.hint else ""
        code = f" (exit {st.exit_code})" if st.exit_code is not None else ""
        if st.last_ok_at is None:
            report.add(name, "fail", f"never succeeded, {since}: {cause}{fix}{code}")
        else:
            report.add(
                name,
                "warn",
                f"last run failed, {since}: {cause}{fix}{code}; last success "
                f"{_ago(now, st.last_ok_at)}",
            )
    advice = watch_advice(conn, page.id, poll_seconds=float(ctx.config.sync.poll_seconds), now=now)
    report.add(
        "watch interval",
        "warn" if advice.stop else "ok",
        f"{human_duration(advice.seconds)}: {advice.reason}",
    )


def _check_rules(
    report: HealthReport, ctx: AppContext, conn: sqlite3.Connection, page: PageConfig
) -> None:
    """The rules (issue 14): a pause and its reason (red for a trip wire), an invalid file."""
    from socialdesk.core import rules

    try:
        rs = rules.load(ctx)
    except SocialdeskError as exc:
        report.add("rules", "fail", f"{exc.message}; {exc.hint or ''}")
        return
    if not rs.exists:
        return
    paused = rules.pause_line(conn, page.id)
    if paused is not None:
        tripped, words = paused
        report.add("rules", "fail" if tripped else "warn", f"{words}; `socialdesk rules resume`")
        return
    live = sum(1 for r in rs.rules if r.state.value == "live")
    off = " (switched off in the rules file)" if not rs.settings.enabled else ""
    report.add("rules", "ok", f"{live} live of {len(rs.rules)}; not paused{off}")


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


@dataclass(frozen=True)
class ProbeReport:
    """What ``doctor --probe`` asked the live Page, and what it found."""

    page: PageConfig
    results: list[ProbeResult]

    @property
    def differs(self) -> list[ProbeResult]:
        """The answers that contradict socialdesk's assumption (worth reporting)."""
        from socialdesk.api.probes import ProbeStatus

        return [r for r in self.results if r.status is ProbeStatus.DIFFERS]


def probe(ctx: AppContext, page_ref: str | None, numbers: set[int] | None = None) -> ProbeReport:
    """Ask the Page each question of the fidelity audit that reads can settle (GET requests
    only, ``debug_token`` as a POST with ``method=GET``); the others say how to check by hand.
    An invalid token raises (exit 3)."""
    from socialdesk.api.probes import run_probes

    page = ctx.page(page_ref)
    results = run_probes(ctx.client(page), page.id, now=ctx.clock.now(), numbers=numbers)
    return ProbeReport(page, results)
