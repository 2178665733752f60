"""The inbox's work in a subprocess, to be SIGKILLed: shared by ``tests/robust/test_inbox_kill.py``
(a few kills) and ``benchmarks/soak_inbox_kill.py`` (many).

``python -m tests.support.inbox_proc work`` opens the inbox's ``Gateway`` (socialdesk.tui.gateway)
on ``SOCIALDESK_HOME`` (Graph URL and token from the environment), runs its background sync
(full rounds, one after the other, on a worker thread, as the inbox does) and meanwhile replies
to every awaiting thread, one after the other, printing ``sent N``/``<state> N`` per reply and
``DONE`` at the end. ``python -m tests.support.inbox_proc start`` is the inbox starting again:
it settles the outbox (``Gateway.settle_outbox``, what the app runs at start) and prints the
notices as JSON.

No Textual: the gateway is the whole of what the inbox does to the store and the API; the app
only calls it (the app's own start-up call is tested in-process).
"""

from __future__ import annotations

import json
import sys
import threading

from socialdesk.core.replying import ReplyRequest
from socialdesk.errors import SocialdeskError
from socialdesk.tui.gateway import Gateway

REPLY = "inbox reply to #{n}"
"""The text the inbox sends to thread ``n`` (the checks count it per customer)."""


def work() -> int:
    gw = Gateway.open()
    stop = threading.Event()

    def background_sync() -> None:
        while not stop.is_set():
            try:
                gw.sync_round(full=True)
            except SocialdeskError as exc:
                print(f"sync failed: {exc.message}", flush=True)
            stop.wait(0.05)

    syncer = threading.Thread(target=background_sync, daemon=True)
    syncer.start()
    try:
        for n in gw.thread_numbers("is:awaiting is:dm"):
            outcome = gw.send(n, ReplyRequest(text=REPLY.format(n=n)))
            print(f"{outcome.state} {n}", flush=True)
        print("DONE", flush=True)
    finally:
        stop.set()
        syncer.join()
        gw.close()
    return 0


def start() -> int:
    gw = Gateway.open()
    try:
        print(json.dumps(gw.settle_outbox()), flush=True)
    finally:
        gw.close()
    return 0


if __name__ == "__main__":
    sys.exit({"work": work, "start": start}[sys.argv[1]]())
