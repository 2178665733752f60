"""Bad files and storage errors say what and where (issues 9 and 12): a garbage, truncated or
newer database, a read-only or unwritable home, a directory that cannot be made and a full disk
each give one clear error naming the file and the fix, with exit 1 (never "unexpected failure:
DatabaseError … report it"), and the data already saved stays intact. `state export` rescues
the operator state SQLite can still read from a damaged database.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from socialdesk.store.db import StoreFailure, open_db, transaction
from tests.robust.crowd import REPO
from tests.robust.homes import T0, seed_home, thread_numbers
from tests.support import crowd_forkserver

IS_ROOT = os.geteuid() == 0


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def cli(home: Path, *args: str, fsize: int | None = None, fresh: bool = False) -> Run:
    """``socialdesk ARGS`` on ``home`` in a process of its own (with a file-size limit:
    RLIMIT_FSIZE), forked from the imported fork server; ``fresh``: ``python -m socialdesk``,
    a new interpreter (~0.3 s of CPU more)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALDESK_")}
    env.update(SOCIALDESK_HOME=str(home), PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    if not fresh:
        done = crowd_forkserver.shared().run(["cli", *args], env=env, cwd=REPO, fsize=fsize)
        return Run(done.returncode, done.stdout, done.stderr)

    def limit() -> None:
        if fsize is not None:
            import signal

            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit: EFBIG
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    proc = subprocess.run(
        [sys.executable, "-m", "socialdesk", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def assert_clear(run: Run, *words: str) -> None:
    """Exit 1, an `error:` and a `hint:` line, no traceback and no "unexpected failure"."""
    assert run.code == 1, run
    assert "unexpected failure" not in run.err and "Traceback" not in run.err, run.err
    lines = run.err.strip().splitlines()
    assert lines[0].startswith("error: ") and any(line.startswith("hint: ") for line in lines)
    for word in words:
        assert word in run.err, (word, run.err)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def checkpoint(db: Path) -> None:
    """Fold the WAL into the main file, so the file alone holds everything."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def tag_all(home: Path, db: Path) -> dict[int, str]:
    """Tag every thread (through the store, as the command does); return number → tag."""
    from socialdesk.store import triage

    conn = open_db(db)
    tags: dict[int, str] = {}
    with transaction(conn):
        for tid, number in thread_numbers(db).items():
            triage.add_tags(conn, tid, [f"t{number}"], now=T0)
            tags[number] = f"t{number}"
    conn.close()
    return tags


@pytest.fixture
def home(isolated_home: Path) -> Path:
    return isolated_home


# --- damaged files ---------------------------------------------------------------------------


def test_garbage_database(home: Path) -> None:
    """Random bytes in place of the database: "damaged", doctor/state export/backup named."""
    seed_home(home, 3)
    db = home / "socialdesk.db"
    for extra in ("-wal", "-shm"):
        Path(f"{db}{extra}").unlink(missing_ok=True)
    db.write_bytes(os.urandom(64 * 1024))
    before = digest(db)
    # A new interpreter, as a user starts it: the other tests fork from the fork server.
    run = cli(home, "list", fresh=True)
    assert_clear(run, str(db), "is damaged", "doctor", "state export", "backup")
    assert digest(db) == before  # never written to


def test_truncated_database_and_rescue(home: Path, tmp_path: Path) -> None:
    """A database that lost its last pages (a copy cut short): commands fail clearly naming
    the fix; `state export` writes every row it can still read, names the tables it could not
    read whole, and exits 5."""
    db = seed_home(home, 400, messages=4)
    tags = tag_all(home, db)  # the tags and the triage log are the newest pages, at the end
    checkpoint(db)
    conn = sqlite3.connect(db)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with db.open("r+b") as fh:
        fh.truncate(db.stat().st_size - 3 * page_size)
    run = cli(home, "list", "--json", "--limit", "1000")
    assert_clear(run, str(db), "damaged", "state export")
    out = tmp_path / "rescued.jsonl"
    rescue = cli(home, "state", "export", str(out))
    assert rescue.code == 5, rescue
    assert "warning: " in rescue.err and "could not be read" in rescue.err
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0]["type"] == "header"
    numbers = {row["number"] for row in lines if row["type"] == "thread_number"}
    assert numbers == set(thread_numbers_before(tags))  # the older tables came back whole
    rescued = {row["tag"] for row in lines if row["type"] == "thread_tag"}
    assert rescued <= set(tags.values())


def thread_numbers_before(tags: dict[int, str]) -> list[int]:
    return sorted(tags)


def test_rescue_of_a_healthy_database_equals_the_export(home: Path) -> None:
    """On an undamaged file the rescue reads exactly what the normal export writes."""
    import io

    from socialdesk.store.state_io import export_state, rescue_state

    db = seed_home(home, 30)
    tag_all(home, db)
    normal, rescued = io.StringIO(), io.StringIO()
    conn = open_db(db)
    export_state(conn, normal, now=T0)
    conn.close()
    report = rescue_state(db, rescued, now=T0)
    assert report.problems == ()
    assert sorted(rescued.getvalue().splitlines()) == sorted(normal.getvalue().splitlines())


def test_rescue_skips_a_damaged_page_and_keeps_the_rest(home: Path, tmp_path: Path) -> None:
    """Zeroes over one page in the middle of the tags table: rows before and after it are
    rescued, the damaged range is reported."""
    import io

    from socialdesk.store.state_io import rescue_state

    db = seed_home(home, 600)
    tags = tag_all(home, db)
    checkpoint(db)
    conn = sqlite3.connect(db)
    pages = (
        [
            r[0]
            for r in conn.execute(
                "SELECT pageno FROM dbstat WHERE name = 'thread_tags' AND pagetype = 'leaf'"
            )
        ]
        if _has_dbstat(conn)
        else []
    )
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    if len(pages) < 3:
        pytest.skip("this SQLite has no dbstat, or the table is too small to damage one page")
    victim = pages[len(pages) // 2]
    with db.open("r+b") as fh:
        fh.seek((victim - 1) * page_size)
        fh.write(b"\xff" * page_size)
    out = io.StringIO()
    report = rescue_state(db, out, now=T0)
    rescued = {json.loads(x)["tag"] for x in out.getvalue().splitlines()[1:] if '"thread_tag"' in x}
    assert report.problems and "thread_tags" in report.problems[0]
    assert len(tags) * 0.5 < len(rescued) < len(tags)


def _has_dbstat(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("SELECT 1 FROM dbstat LIMIT 1")
    except sqlite3.Error:
        return False
    return True


def test_database_from_a_newer_version(home: Path) -> None:
    """user_version ahead: "newer socialdesk", upgrade named, file untouched."""
    db = seed_home(home, 2)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    checkpoint(db)
    before = digest(db)
    run = cli(home, "list")
    assert_clear(run, "newer socialdesk", "upgrade")
    assert digest(db) == before


# --- permissions -----------------------------------------------------------------------------


@pytest.fixture
def make_read_only() -> Iterator[Callable[[Path], None]]:
    """Make a directory read-only with a read-only bind mount over it (root only; as root,
    file modes do not stop writes). Unmounted afterwards."""
    mounted: list[Path] = []

    def make(path: Path) -> None:
        for args in (["--bind", str(path), str(path)], ["-o", "remount,ro,bind", str(path)]):
            done = subprocess.run(["mount", *args], capture_output=True, check=False)
            if done.returncode != 0:
                if mounted or args[0] == "-o":
                    subprocess.run(["umount", "-l", str(path)], check=False)
                pytest.skip(f"cannot bind-mount read-only here: {done.stderr.decode().strip()}")
            if args[0] == "--bind":
                mounted.append(path)

    yield make
    for path in mounted:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_read_only_home(home: Path, make_read_only: Callable[[Path], None]) -> None:
    """Home and database on a read-only file system: `tag` names the file and the fix, exit 1;
    the data is unchanged."""
    db = seed_home(home, 3)
    checkpoint(db)
    for extra in ("-wal", "-shm"):
        Path(f"{db}{extra}").unlink(missing_ok=True)
    before = digest(db)
    make_read_only(home)
    run = cli(home, "tag", "1", "+vip")
    assert_clear(run, str(home), "read-only", "writable")
    assert digest(db) == before


def test_unwritable_home_without_a_database(
    home: Path, make_read_only: Callable[[Path], None]
) -> None:
    """A read-only home with a config but no database yet: "cannot create" with the path and
    the fix, exit 1."""
    (home / "config.toml").write_text('[pages.shop]\nid = "1000"\n')
    make_read_only(home)
    run = cli(home, "list")
    assert_clear(run, str(home), "cannot create", "read-only", "SOCIALDESK_HOME")


def test_home_under_a_file(tmp_path: Path) -> None:
    """SOCIALDESK_HOME below a regular file (a typo): the error names it, no traceback."""
    blocker = tmp_path / "notadir"
    blocker.write_text("x")
    run = cli(blocker / "home", "list")
    assert run.code in (1, 2), run
    assert "unexpected failure" not in run.err and str(blocker) in run.err


# --- full disks ------------------------------------------------------------------------------


def test_sqlite_full_rolls_back_and_names_the_fix(home: Path) -> None:
    """SQLITE_FULL (a max_page_count reached) inside a transaction: a StoreFailure with reason
    disk_full naming the file; the transaction is rolled back and earlier data is intact."""
    db = seed_home(home, 5)
    conn = open_db(db)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreFailure) as info, transaction(conn):
        conn.execute("UPDATE thread_state SET note = 'kept' WHERE rowid = 1")
        for i in range(2000):
            conn.execute(
                "INSERT INTO triage_log (thread_id, page_id, action, detail, at)"
                " VALUES ('t_1', '1000', 'note', ?, 0)",
                ("x" * 500 + str(i),),
            )
    assert info.value.reason == "disk_full"
    assert str(db) in info.value.message and "free space" in (info.value.hint or "")
    assert not conn.in_transaction
    assert conn.execute("SELECT count(*) FROM triage_log").fetchone()[0] == 0
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_file_size_limit_during_tag(home: Path) -> None:
    """A write that the OS refuses (RLIMIT_FSIZE: EFBIG, as a quota would) during `tag`: a
    clear I/O error naming the file and free space, and the tags saved before are intact."""
    db = seed_home(home, 50)
    tag_all(home, db)
    checkpoint(db)
    # The WAL starts empty; a limit of 1 KiB makes the first WAL write fail.
    run = cli(home, "tag", "1", "+newtag", fsize=1024)
    assert_clear(run, str(db), "SQLITE_IOERR", "free space")
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM thread_tags").fetchone()[0] == 50
    conn.close()


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs (root only), unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> Path:
    """Fill the disk up to its last byte with one file; return it."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        for size in (1 << 20, 1 << 12, 1):
            while True:
                try:
                    if os.write(fd, b"\0" * size) < size:
                        break
                except OSError:
                    break
    finally:
        os.close(fd)
    return filler


def test_full_disk_during_tag_and_stats_output(tiny_disk: Path) -> None:
    """A really full disk (tmpfs): `tag` and `stats --output` fail clearly, the database is
    intact, the earlier stats file is unchanged, and after freeing space `tag` works."""
    home = tiny_disk / "home"
    db = seed_home(home, 40)
    tag_all(home, db)
    checkpoint(db)
    report = home / "stats.csv"
    first = cli(home, "stats", "--output", str(report), "--format", "csv")
    assert first.code == 0, first
    saved = digest(report)
    filler = _fill(tiny_disk)
    tag = cli(home, "tag", "1", "+more", "+tags", "+to", "+write")
    assert_clear(tag, str(db), "disk is full")
    stats = cli(home, "stats", "--output", str(report), "--format", "csv")
    assert_clear(stats, "disk is full")
    assert str(report) in stats.err or str(db) in stats.err
    assert digest(report) == saved
    filler.unlink()
    assert cli(home, "tag", "1", "+after").code == 0
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM thread_tags").fetchone()[0] == 41
    conn.close()


def test_atomic_write_on_a_full_disk_keeps_the_old_file(tiny_disk: Path) -> None:
    """An export/config write on a full disk: WriteFailed (reason disk_full) naming the file;
    the previous file is unchanged and no temporary file is left behind."""
    from socialdesk.paths import WriteFailed, atomic_write

    target = tiny_disk / "out" / "report.csv"
    atomic_write(target, b"old content\n")
    filler = _fill(tiny_disk)
    with pytest.raises(WriteFailed) as info:
        atomic_write(target, b"x" * (2 * 1024 * 1024))
    assert info.value.reason == "disk_full" and str(target) in info.value.message
    assert target.read_bytes() == b"old content\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.csv"]
    filler.unlink()


# --- bad config and token files --------------------------------------------------------------


def test_config_with_a_wrong_type(home: Path) -> None:
    """`poll_seconds = "often"`: exit 2, the file, the key and the expected type named."""
    (home / "config.toml").write_text('[pages.shop]\nid = "1"\n[sync]\npoll_seconds = "often"\n')
    run = cli(home, "list")
    assert run.code == 2, run
    assert str(home / "config.toml") in run.err and "sync.poll_seconds" in run.err
    assert "must be an integer" in run.err and "Traceback" not in run.err


def test_token_file_others_can_read(home: Path) -> None:
    """A 0644 token file: exit 3, the file named with the chmod fix, the token never printed."""
    token = "EAAB" + "s3cr3t" * 10
    secrets_dir = home / "secrets"
    secrets_dir.mkdir(mode=0o700)
    path = secrets_dir / "tokens.json"
    path.write_text(json.dumps({"version": 1, "pages": {"1000": token}}))
    os.chmod(path, 0o644)
    seed_home(home, 1)
    run = cli(home, "sync")
    assert run.code == 3, run
    assert str(path) in run.err and f"chmod 600 {path}" in run.err
    assert token not in run.err + run.out
