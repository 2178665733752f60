"""The inbox's work in a subprocess, to be SIGKILLed: shared by ``tests/robust/test_inbox_kill.py``
(a few kills at announced points) and ``benchmarks/soak_inbox_kill.py`` (many, at random).

``python -m tests.support.inbox_proc work`` opens the inbox's ``Gateway`` (socialdesk.tui.gateway)
on ``SOCIALDESK_HOME`` (Graph URL and token from the environment) and runs :func:`reply_to_all`:
its background sync (full rounds, one after the other, on a worker thread, as the inbox does)
and meanwhile a reply to every awaiting thread, one after the other, printing ``sent N``/``<state>
N`` per reply and ``DONE`` at the end. ``python -m tests.support.inbox_proc start`` is the inbox
starting again: it settles the outbox (``Gateway.settle_outbox``, what the app runs at start) and
prints the notices as JSON.

``work --unpaced`` skips the client's spacing of conversation calls (for a sandbox whose rate
limit is off, where it only sleeps). With ``KILL_EVENTS_FD`` set, the child announces its
commits and holds where ``KILL_HOLD_AT`` says (``tests.support.kill_events``): socialdesk is only
imported after that is in place. The test also runs :func:`reply_to_all` and :func:`open_gateway`
in its own process, for the runs nobody kills.

No Textual: the gateway is the whole of what the inbox does to the store and the API; the app
only calls it (the app's own start-up call is tested in-process).
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from socialdesk.tui.gateway import Gateway

REPLY = "inbox reply to #{n}"
"""The text the inbox sends to thread ``n`` (the checks count it per customer)."""


def open_gateway(*, pace: bool = True) -> Gateway:
    """``Gateway.open()`` on ``SOCIALDESK_HOME``; ``pace=False`` without the client's pacing."""
    from socialdesk.core.context import AppContext
    from socialdesk.tui.gateway import Gateway

    ctx = AppContext.open(pace=pace)
    try:
        return Gateway(ctx, ctx.page())
    except BaseException:
        ctx.close()
        raise


def reply_to_all(gw: Gateway, say: Callable[[str], None]) -> None:
    """The inbox at work on ``gw``: background full syncs while every awaiting DM gets its
    reply; ``say`` hears ``<state> N`` per reply and ``DONE`` once they all went. Returns once
    the background sync's current round is over."""
    from socialdesk.core.replying import ReplyRequest
    from socialdesk.errors import SocialdeskError

    stop = threading.Event()

    def background_sync() -> None:
        while not stop.is_set():
            try:
                gw.sync_round(full=True)
            except SocialdeskError as exc:
                say(f"sync failed: {exc.message}")
            stop.wait(0.05)  # the pause between rounds (cut short by the stop)

    syncer = threading.Thread(target=background_sync, daemon=True)
    syncer.start()
    try:
        for n in gw.thread_numbers("is:awaiting is:dm"):
            outcome = gw.send(n, ReplyRequest(text=REPLY.format(n=n)))
            say(f"{outcome.state} {n}")
        say("DONE")
    finally:
        stop.set()
        syncer.join()


def _say(line: str) -> None:
    print(line, flush=True)


def work(*, pace: bool = True) -> int:
    gw = open_gateway(pace=pace)
    try:
        reply_to_all(gw, _say)
    finally:
        gw.close()
    return 0


def start() -> int:
    gw = open_gateway()
    try:
        print(json.dumps(gw.settle_outbox()), flush=True)
    finally:
        gw.close()
    return 0


def main(argv: list[str]) -> int:
    from tests.support import kill_events

    kill_events.install()  # before socialdesk.core is imported (a no-op without the events fd)
    mode, *flags = argv
    if mode == "work":
        return work(pace="--unpaced" not in flags)
    if mode == "start":
        return start()
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
