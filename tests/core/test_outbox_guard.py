"""The senders' guard: recovery never takes a live process's `sending` row for an orphan."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from socialdesk.core import outbox as core_outbox
from socialdesk.models import OutboxState, SendKind
from socialdesk.store import outbox as ob
from socialdesk.store.db import open_db, transaction

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

_HOLDER = textwrap.dedent(
    """
    import sys, time
    from socialdesk.store.db import open_db
    from socialdesk.store.lock import join_senders
    conn = open_db(sys.argv[1])
    join_senders(conn)
    print("joined", flush=True)
    time.sleep(60)
    """
)


def _sending_row(db: Path) -> int:
    conn = open_db(db)
    with transaction(conn):
        oid = ob.enqueue(
            conn,
            page_id="p",
            thread_id="t1",
            kind=SendKind.DM_RESPONSE,
            text="hi",
            now=NOW,
            origin="reply",
        )
        assert ob.mark_sending(conn, oid, now=NOW)
    conn.close()
    return oid


def test_live_sender_rows_are_left_alone_until_it_dies(tmp_path: Path) -> None:
    """While another sender lives its `sending` row stays; after SIGKILL recovery takes it."""
    db = tmp_path / "sd.db"
    oid = _sending_row(db)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "joined"
        conn = open_db(db)
        assert core_outbox.recover(conn, now=NOW) == 0
        assert ob.get(conn, oid).entry.state is OutboxState.SENDING
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    assert core_outbox.recover(conn, now=NOW) == 1
    assert ob.get(conn, oid).entry.state is OutboxState.UNKNOWN
