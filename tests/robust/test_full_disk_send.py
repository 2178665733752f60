"""A full disk during a send: the send recorded before the disk filled is never lost or
repeated. The intent (`sending`) is committed durably before the HTTP call; the disk fills
while the request is in flight, so the outcome cannot be written. The next start finds the
row, reads the thread back, and records it `sent`, with one delivery and no second send.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from socialdesk.api.client import GraphClient
from socialdesk.core import outbox as core
from socialdesk.core.clock import SystemClock
from socialdesk.core.sync import sync_page
from socialdesk.models import OutboxState
from socialdesk.paths import resolve_paths
from socialdesk.sandbox import Sandbox
from socialdesk.store import outbox as store
from socialdesk.store.db import StoreFailure, open_db
from socialdesk.store.threads import list_threads


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs (root only), unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


class FillsDiskOnSend(httpx.BaseTransport):
    """The sandbox transport; the disk fills up while a send is being answered."""

    def __init__(self, inner: httpx.BaseTransport, disk: Path) -> None:
        self.inner = inner
        self.disk = disk
        self.armed = False
        self.filler = disk / "filler"

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if self.armed and request.method == "POST" and request.url.path.endswith("/messages"):
            self.armed = False
            _fill(self.disk)
        return response


def test_disk_fills_during_a_send(tiny_disk: Path) -> None:
    sb = Sandbox(rate_limit=False)
    page = sb.add_page("Corner Shop")
    token = sb.issue_token(page)
    user = sb.add_user("Ann Lee")
    sb.add_message(page, user, "is it in stock?", at=sb.now() - timedelta(minutes=5))
    transport = FillsDiskOnSend(sb.transport(), tiny_disk)
    client = GraphClient(token, transport=transport, pace=False, sleep=lambda s: None)
    clock = SystemClock()
    db = tiny_disk / "home" / "socialdesk.db"
    paths = resolve_paths(tiny_disk / "home")
    paths.ensure()
    conn = open_db(db)
    sync_page(conn, client, page, paths=paths, now=sb.now(), full=True)
    (thread,) = list_threads(conn, "", page_id=page, now=sb.now(), limit=None)
    prepared = core.queue(conn, thread, ["Yes, in stock!"], now=clock.now(), human_agent=False)
    (oid,) = prepared.ids

    transport.armed = True
    with pytest.raises(StoreFailure) as info:
        core.send_prepared(conn, client, prepared, clock=clock)
    assert info.value.reason == "disk_full" and str(db) in info.value.message
    conn.close()
    assert len(sb.deliveries(page, user)) == 1  # it went out once

    # The operator frees space; the next command starts as every acting command does.
    transport.filler.unlink()
    conn = open_db(db)
    assert store.get(conn, oid).entry.state is OutboxState.SENDING  # the intent survived
    report = core.startup(conn, client, page, now=clock.now(), settle_s=0)
    assert (report.recovered, report.found) == (1, 1)
    assert store.get(conn, oid).entry.state is OutboxState.SENT
    assert len(sb.deliveries(page, user)) == 1  # and never again
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    client.close()


def _fill(disk: Path) -> Path:
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


def test_disk_full_during_sync_then_converges(tiny_disk: Path) -> None:
    """A sync on a full disk stops with the disk-full StoreFailure; what was stored stays
    intact, and once space is freed the next sync stores everything."""
    sb = Sandbox(rate_limit=False)
    page = sb.add_page("Corner Shop")
    token = sb.issue_token(page)
    for i in range(30):
        user = sb.add_user(f"Customer {i}")
        sb.add_message(page, user, f"first {i}", at=sb.now() - timedelta(hours=2, minutes=i))
    client = GraphClient(token, transport=sb.transport(), pace=False, sleep=lambda s: None)
    db = tiny_disk / "home" / "socialdesk.db"
    paths = resolve_paths(tiny_disk / "home")
    paths.ensure()
    conn = open_db(db)
    sync_page(conn, client, page, paths=paths, now=sb.now(), full=True)
    before = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    for i in range(200):
        user = sb.add_user(f"Later {i}")
        sb.add_message(page, user, "x" * 1500, at=sb.now() - timedelta(minutes=1))
    filler = _fill(tiny_disk)
    with pytest.raises(StoreFailure) as info:
        sync_page(conn, client, page, paths=paths, now=sb.now(), full=True)
    assert info.value.reason == "disk_full"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] >= before
    filler.unlink()
    sync_page(conn, client, page, paths=paths, now=sb.now(), full=True)
    assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == before + 200
    conn.close()
    client.close()
