"""core.context: paths and config, per-worker connections, one Graph client per Page, pages."""

from __future__ import annotations

import os
import threading
from contextlib import closing
from pathlib import Path

import pytest

from socialdesk.config import Config, PageConfig, save_config
from socialdesk.core.context import AppContext
from socialdesk.errors import Reason, UsageError
from socialdesk.paths import resolve_paths
from socialdesk.sandbox import build_demo


def _ctx(home: Path, *pages: PageConfig) -> AppContext:
    paths = resolve_paths(home)
    paths.ensure()
    cfg = Config()
    for page in pages:
        cfg = cfg.with_page(page)
    save_config(paths, cfg)
    return AppContext.open(home)


def test_each_worker_gets_its_own_connection(tmp_path: Path) -> None:
    """connect() hands out a new connection per call; eight threads use theirs at once."""
    ctx = _ctx(tmp_path / "h", PageConfig("shop", "111"))
    ctx.connect().close()  # migrated once (concurrent first migrations are store.migrations')
    seen: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with closing(ctx.connect()) as conn:
                seen.append(id(conn))
                conn.execute("SELECT count(*) FROM threads").fetchone()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == [] and len(seen) == 8


def test_one_client_per_page_shared_by_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """client(page) is the same object for every thread of the process (one pacer per Page),
    and another page gets its own."""
    sb, page_id, token = build_demo(seed=1, threads=3)
    monkeypatch.setenv("SOCIALDESK_TOKEN", token)
    ctx = _ctx(tmp_path / "h", PageConfig("shop", page_id), PageConfig("other", "222"))
    ctx.transport = sb.transport()
    page = ctx.page("shop")
    got: list[object] = []
    workers = [threading.Thread(target=lambda: got.append(ctx.client(page))) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len({id(c) for c in got}) == 1
    assert ctx.client(ctx.page("other")) is not got[0]
    ctx.close()


def test_a_missing_home_variable_is_an_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SOCIALDESK_HOME naming a missing directory: UsageError naming the variable, nothing
    created; the setup commands (create_home) may create it."""
    missing = tmp_path / "typo" / "home"
    home = os.environ["SOCIALDESK_HOME"]
    monkeypatch.setenv("SOCIALDESK_HOME", str(missing))
    with pytest.raises(UsageError) as err:
        AppContext.open()
    assert "SOCIALDESK_HOME" in err.value.message and err.value.reason == Reason.HOME_MISSING
    assert not missing.exists()
    AppContext.open(create_home=True).connect().close()
    assert missing.is_dir()
    monkeypatch.setenv("SOCIALDESK_HOME", home)  # the autouse fixture checks it is back


def test_page_errors_name_no_option(tmp_path: Path) -> None:
    """An unknown or ambiguous page: the hint lists the pages, names no CLI option, and the
    reason lets a front end add its own words."""
    ctx = _ctx(tmp_path / "h", PageConfig("a", "1"), PageConfig("b", "2"))
    with pytest.raises(UsageError) as unknown:
        ctx.page("nope")
    assert unknown.value.reason == Reason.PAGE_UNKNOWN
    assert "--" not in (unknown.value.hint or "") and "a (1)" in (unknown.value.hint or "")
    empty = _ctx(tmp_path / "e")
    with pytest.raises(UsageError) as none:
        empty.page()
    assert none.value.reason == Reason.NO_PAGE


def test_the_env_token_page_is_remembered_for_offline_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With SOCIALDESK_TOKEN alone: GET /me once; later contexts know the page with no call,
    and the database holds no trace of the token."""
    sb, page_id, token = build_demo(seed=2, threads=3)
    monkeypatch.setenv("SOCIALDESK_TOKEN", token)
    home = tmp_path / "h"
    home.mkdir()
    first = AppContext.open(home, transport=sb.transport())
    first.connect().close()
    assert first.page().id == page_id
    calls = sb.calls
    offline = AppContext.open(home)  # no transport at all: any call would fail
    assert offline.page().id == page_id and sb.calls == calls
    raw = (home / "socialdesk.db").read_bytes()
    assert token.encode() not in raw
