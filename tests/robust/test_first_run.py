"""First run, many processes: migrations are serialized (the write lock is taken before
``schema_migrations`` is read) and never applied twice.

Before, twenty commands started at once on an empty home failed now and then with "migration
m003_page_display_name failed: duplicate column name" or "m001_initial failed: table pages
already exists".
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import pytest

from socialdesk.errors import StoreError
from socialdesk.store.db import open_db
from socialdesk.store.migrations import applied, migrate, statements
from socialdesk.store.schema import MIGRATIONS
from tests.robust.crowd import run_crowd

NAMES = [name for name, _ in MIGRATIONS]


def test_twenty_processes_open_a_fresh_database_at_once(tmp_path: Path) -> None:
    """20 real processes, released together on a fresh file, three times: all succeed, each
    migration is recorded once and the schema is whole."""
    for round_ in range(3):
        db = tmp_path / f"round{round_}" / "socialdesk.db"
        db.parent.mkdir()
        results = run_crowd([["open", str(db)]] * 20, tmp_path)
        failures = [r.stderr.strip().splitlines()[-1] for r in results if r.returncode != 0]
        assert failures == []
        conn = open_db(db)
        assert applied(conn) == NAMES
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(NAMES)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()


def test_twenty_list_commands_on_an_empty_home(tmp_path: Path, isolated_home: Path) -> None:
    """20 `socialdesk list --json` on an empty SOCIALDESK_HOME at once: all print `[]`, exit 0."""
    home = isolated_home
    (home / "config.toml").write_text('[pages.shop]\nid = "123"\n')
    results = run_crowd(
        [["cli", "list", "--json"]] * 20, tmp_path, env={"SOCIALDESK_HOME": str(home)}
    )
    assert [(r.returncode, r.stderr) for r in results] == [(0, "")] * 20
    assert all(r.stdout.strip().startswith("{") for r in results)


def test_a_migration_finished_by_another_process_while_waiting_is_not_rerun(
    tmp_path: Path,
) -> None:
    """The interleaving behind the bug, made deterministic: B holds the write lock and migrates
    while A is already inside migrate(); A must find the work done, not run m001 again."""
    path = tmp_path / "s.db"
    a = open_db(path, migrate=False)
    b = sqlite3.connect(path, isolation_level=None)
    b.execute("BEGIN IMMEDIATE")  # B holds the lock before A looks at schema_migrations
    outcome: dict[str, object] = {}
    # A's BEGIN IMMEDIATE starting means it has read "nothing applied" and now waits for the
    # lock (SQLite traces a statement as it starts, before it waits): no sleep to guess that.
    waiting = threading.Event()
    a.set_trace_callback(lambda sql: waiting.set() if sql.startswith("BEGIN IMMEDIATE") else None)

    def run_a() -> None:
        try:
            outcome["ran"] = migrate(a)
        except Exception as exc:  # reported by the assertion below
            outcome["error"] = exc

    thread = threading.Thread(target=run_a)
    thread.start()
    assert waiting.wait(timeout=30)
    b.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)")
    for name, script in MIGRATIONS:
        for statement in statements(script):
            b.execute(statement)
        b.execute("INSERT INTO schema_migrations VALUES (?, 0)", (name,))
    b.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
    b.execute("COMMIT")
    thread.join(timeout=30)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["ran"] == []
    assert applied(a) == NAMES


def test_threads_migrating_one_file_at_once(tmp_path: Path) -> None:
    """Ten connections in threads migrate one fresh file together: exactly one applies each."""
    path = tmp_path / "s.db"
    barrier = threading.Barrier(10)
    ran: list[list[str]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        conn = open_db(path, migrate=False)
        barrier.wait()
        try:
            ran.append(migrate(conn))
        except BaseException as exc:
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(name for names in ran for name in names) == sorted(NAMES)


def test_statements_keep_trigger_bodies_whole() -> None:
    """The splitter cuts at statement ends only (a trigger's inner `;` is not one)."""
    script = (
        "CREATE TABLE a (x);\n-- a comment; with a semicolon\n"
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO a VALUES (1); SELECT ';'; END;\n"
        "INSERT INTO a VALUES ('x;y');"
    )
    parts = list(statements(script))
    assert len(parts) == 3
    assert parts[1].startswith("-- a comment") and parts[1].endswith("END;")
    conn = sqlite3.connect(":memory:")
    for part in parts:
        conn.execute(part)
    assert conn.execute("SELECT x FROM a").fetchall() == [("x;y",), (1,)]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("how", ["user_version", "migration_name"])
def test_database_from_a_newer_version_is_refused_untouched(tmp_path: Path, how: str) -> None:
    """A schema ahead of this version (user_version or an unknown migration): a StoreError
    with reason newer_schema naming the fix, and the file is not modified."""
    path = tmp_path / "s.db"
    conn = open_db(path)
    if how == "user_version":
        conn.execute(f"PRAGMA user_version = {len(NAMES) + 1}")
    else:
        conn.execute("INSERT INTO schema_migrations VALUES ('m999_from_the_future', 0)")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = _digest(path)
    with pytest.raises(StoreError) as info:
        open_db(path)
    assert info.value.reason == "newer_schema"
    assert "newer socialdesk" in info.value.message and "upgrade" in (info.value.hint or "")
    assert _digest(path) == before
