"""The Textual application: the inbox screen, global keys, the palette, sync and the job queue.

Built by :func:`socialdesk.tui.run_inbox` (the bare ``socialdesk`` command and ``socialdesk
demo``) and by the tests around a :class:`~socialdesk.tui.gateway.Gateway`.

Background sync (research/TUI.md §1.2, dolphie's pattern): a thread worker runs one
``Gateway.sync_round``; when it ends, :class:`~socialdesk.core.syncing.WatchPolicy` (the one
``sync --watch`` uses) decides the next interval and ``set_timer`` re-arms it. Never
``set_interval``: rounds can never overlap, and a slow round delays the next one instead of
piling up. ``s`` cancels the timer and starts a round now (or says one is running). A lost
network, an invalid token or a failed edge is shown in the header, never raised: the worker
catches every ``SocialdeskError``.

Triage actions and sends go through one job queue served by one worker thread, so they run one
at a time, in the order they were asked for (an undo never overtakes the action it undoes).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, ClassVar

from textual import events, work
from textual.app import App
from textual.binding import BindingType
from textual.timer import Timer

from socialdesk.errors import SocialdeskError
from socialdesk.tui import messages as msg
from socialdesk.tui.keys import active_keys, bindings
from socialdesk.tui.screens.inbox import InboxScreen
from socialdesk.tui.text import editable_text, plain

if TYPE_CHECKING:
    from textual.command import Provider

    from socialdesk.models import SyncReport
    from socialdesk.tui.gateway import Gateway

Job = Callable[[], None]


def _inbox_commands() -> type[Provider]:
    # Imported when the palette first opens, not before the first screen.
    from socialdesk.tui.commands import InboxCommands

    return InboxCommands


class InboxApp(App[None]):
    """The socialdesk inbox (see the module docstring)."""

    CSS_PATH = "inbox.tcss"
    TITLE = "socialdesk"
    BINDINGS: ClassVar[list[BindingType]] = list(bindings("app"))
    COMMANDS = App.COMMANDS | {_inbox_commands}

    def __init__(
        self,
        gateway: Gateway,
        *,
        keymap: Mapping[str, str] | None = None,
        sync_on_start: bool = True,
        background_sync: bool = True,
    ) -> None:
        super().__init__()
        self.gw = gateway
        self.active_keymap: dict[str, str] = dict(keymap or {})
        self.sync_on_start = sync_on_start
        self.background_sync = background_sync
        self.policy = gateway.watch_policy()
        self.syncing = False
        self.sync_stopped = False
        self._sync_timer: Timer | None = None
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._job_thread: threading.Thread | None = None
        self.inbox = InboxScreen(gateway)

    def on_mount(self) -> None:
        # socialdesk.launch turned the cyclic GC off for the start (imports make thousands of
        # long-lived objects; collecting them repeatedly cost tens of ms before the first
        # screen). Once it is drawn, they move to the permanent generation and GC resumes.
        self.call_after_refresh(self._gc_after_start)
        if self.active_keymap:
            self.set_keymap(self.active_keymap)
        self.push_screen(self.inbox)
        self._job_thread = threading.Thread(target=self._job_loop, name="inbox-jobs", daemon=True)
        self._job_thread.start()
        if self.sync_on_start:
            # An inbox or a command killed mid-send left rows `sending`: settle them first,
            # on the job thread (reading threads back is network work), as `reply` would.
            self.submit(self._settle_outbox)
            self._sync_timer = self.set_timer(1.5, self._start_sync)
        elif self.background_sync:
            self._arm(self.policy.poll_seconds)

    def _settle_outbox(self) -> None:
        for note in self.gw.settle_outbox():
            self.call_from_thread(self.notify, note, timeout=10)

    async def on_event(self, event: events.Event) -> None:
        # A bracketed paste carries whatever was copied (a customer's name from a web page:
        # bidi controls, tag characters, even escape sequences), and every box echoes its text
        # to the terminal as it is: take those out before any box sees the paste.
        if isinstance(event, events.Paste) and not event.is_forwarded:
            event.text = editable_text(event.text)
        await super().on_event(event)

    @staticmethod
    def _gc_after_start() -> None:
        import gc

        gc.freeze()
        gc.enable()

    def on_unmount(self) -> None:
        self._jobs.put(None)
        if self._job_thread is not None:
            self._job_thread.join(timeout=10)

    # -- the job queue ------------------------------------------------------------------------

    def submit(self, job: Job) -> None:
        """Run ``job`` on the job thread after every job submitted before it."""
        self._jobs.put(job)

    def jobs_pending(self) -> int:
        """Jobs submitted and not finished yet (tests wait for 0)."""
        return self._jobs.unfinished_tasks

    def _job_loop(self) -> None:
        # A plain thread rather than a Textual worker: it lives as long as the app, and a
        # worker that never completes would make `workers.wait_for_complete()` wait forever.
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                try:
                    job()
                except SocialdeskError as exc:
                    self.inbox.post_message(msg.ActionFailed("action", exc.message, exc.hint))
                except Exception as exc:  # a bug must not kill the queue: report it
                    self.inbox.post_message(msg.ActionFailed("action", repr(exc), None))
            finally:
                self._jobs.task_done()

    # -- sync ----------------------------------------------------------------------------------

    def _arm(self, seconds: float) -> None:
        if self._sync_timer is not None:
            self._sync_timer.stop()
        self._sync_timer = self.set_timer(max(1.0, seconds), self._start_sync)

    def request_sync(self, *, soon: bool) -> None:
        """``s`` (``soon=False``): sync now; after a send (``soon=True``): shortly."""
        if self.syncing:
            if not soon:
                self.notify("A sync is already running.", timeout=2)
            return
        if self._sync_timer is not None:
            self._sync_timer.stop()
        self.sync_stopped = False
        self.inbox.header.stopped = False
        if soon:
            self._sync_timer = self.set_timer(1.0, self._start_sync)
        else:
            self._start_sync()

    def _start_sync(self) -> None:
        if self.syncing:
            return
        self.syncing = True
        self.inbox.header.syncing = "syncing…"
        self.inbox.header.show(self.gw.now())
        self._sync()

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def _sync(self) -> None:
        report: SyncReport | None = None
        error: SocialdeskError | None = None

        def progress(p: object) -> None:
            self.post_message(msg.SyncProgressed(p))  # type: ignore[arg-type]

        try:
            report = self.gw.sync_round(progress=progress)
        except SocialdeskError as exc:
            error = exc
        except OSError as exc:
            error = SocialdeskError(f"sync failed: {exc}")
        decision = self.policy.next_interval(report, error)
        try:
            header = self.gw.header_state()
        except SocialdeskError:
            header = None
        self.post_message(
            msg.SyncFinished(
                report,
                error.message if error is not None else None,
                error.hint if error is not None else None,
                header,
                decision,
            )
        )

    def on_sync_progressed(self, message: msg.SyncProgressed) -> None:
        p = message.progress
        self.inbox.header.syncing = f"syncing {p.stage} {p.done}"
        self.inbox.header.show(self.gw.now())

    def on_sync_finished(self, message: msg.SyncFinished) -> None:
        self.syncing = False
        header = self.inbox.header
        header.syncing = None
        if message.header is not None:
            header.state = message.header
        if message.error is not None:
            header.problem = (message.error, message.hint)
        elif message.report is not None and message.report.skipped:
            header.problem = ("sync running elsewhere (cron?): skipped this round", None)
        else:
            header.problem = None
        if message.decision.stop:
            self.sync_stopped = True
            header.stopped = True
        header.show(self.gw.now())
        report = message.report
        if report is not None and not report.skipped:
            self.inbox.refresh_data()
        if self.background_sync and not message.decision.stop:
            self._arm(message.decision.seconds)

    # -- global actions --------------------------------------------------------------------------

    def action_help(self) -> None:
        from socialdesk.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.active_keymap))

    def action_quit_inbox(self) -> None:
        drafts = self.inbox.unsent_drafts()
        if not drafts:
            self.exit()
            return
        from socialdesk.tui.screens.prompts import ConfirmPrompt

        noun = "draft" if drafts == 1 else "drafts"

        def chosen(yes: object) -> None:
            if yes is True:
                self.exit()

        self.push_screen(
            ConfirmPrompt(plain(f"Quit and lose {drafts} unsent {noun}?", "bold")), chosen
        )

    def keys_in_force(self) -> dict[str, str]:
        """Every action id → the keys that run it now (defaults, then ``[keys]``)."""
        return active_keys(self.active_keymap)
