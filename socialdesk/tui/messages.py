"""App-level messages: what workers report back to the UI thread (past tense, small).

Posted by the workers of :mod:`socialdesk.tui.screens.inbox` and :mod:`socialdesk.tui.app`
(``post_message`` is thread-safe) and handled on the UI thread, which alone touches widgets.
Each carries plain data from :mod:`socialdesk.tui.gateway`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from socialdesk.core.stats import StatsReport
    from socialdesk.core.syncing import WatchDecision
    from socialdesk.models import SyncReport
    from socialdesk.tui.gateway import (
        ActionResult,
        HeaderState,
        ReplyOutcome,
        ReplyPreview,
        SyncProgress,
        ThreadDetail,
    )


class ListingLoaded(Message):
    """The ordered thread numbers of a view arrived."""

    def __init__(self, epoch: int, numbers: list[int]) -> None:
        super().__init__()
        self.epoch = epoch
        self.numbers = numbers


class CountsLoaded(Message):
    """Counts of every view (``None``: the view's query is invalid)."""

    def __init__(self, counts: dict[str, int | None]) -> None:
        super().__init__()
        self.counts = counts


class ThreadLoaded(Message):
    """The thread pane's data arrived."""

    def __init__(self, detail: ThreadDetail, *, keep_scroll: bool = False) -> None:
        super().__init__()
        self.detail = detail
        self.keep_scroll = keep_scroll
        """Older messages were added: keep the reading position."""


class PreviewLoaded(Message):
    """The compose box's send preview (window, kind, recipient, refusal) arrived."""

    def __init__(self, number: int, private: bool, preview: ReplyPreview) -> None:
        super().__init__()
        self.number = number
        self.private = private
        self.preview = preview


class TriageDone(Message):
    """A triage action (or its undo) finished."""

    def __init__(
        self,
        result: ActionResult,
        *,
        undo: bool = False,
        advance: bool = False,
        view_query: str | None = None,
    ) -> None:
        super().__init__()
        self.result = result
        self.undo = undo
        self.advance = advance
        """Move the cursor to the next thread if the acted-on one stays in the list."""
        self.view_query = view_query
        """The query of the list the action was taken in."""


class ActionFailed(Message):
    """A worker's action failed with an error the operator must read."""

    def __init__(self, what: str, message: str, hint: str | None) -> None:
        super().__init__()
        self.what = what
        self.message = message
        self.hint = hint


class SendDone(Message):
    """A send through the outbox ended (sent, refused, unknown or failed)."""

    def __init__(self, number: int, private: bool, outcome: ReplyOutcome) -> None:
        super().__init__()
        self.number = number
        self.private = private
        self.outcome = outcome


class SyncStarted(Message):
    """A sync round began."""


class SyncProgressed(Message):
    """Progress of the running sync (only the latest matters)."""

    def __init__(self, progress: SyncProgress) -> None:
        super().__init__()
        self.progress = progress

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SyncProgressed)


class SyncFinished(Message):
    """A sync round ended: its report (or the error), the header facts, the next interval."""

    def __init__(
        self,
        report: SyncReport | None,
        error: str | None,
        hint: str | None,
        header: HeaderState | None,
        decision: WatchDecision,
    ) -> None:
        super().__init__()
        self.report = report
        self.error = error
        self.hint = hint
        self.header = header
        self.decision = decision


class HeaderLoaded(Message):
    """Fresh header facts (after start-up or a send)."""

    def __init__(self, header: HeaderState) -> None:
        super().__init__()
        self.header = header


class StatsLoaded(Message):
    """The stats screen's report arrived (or failed with ``error``)."""

    def __init__(self, report: StatsReport | None, error: str | None = None) -> None:
        super().__init__()
        self.report = report
        self.error = error
