"""Reply windows (PRODUCT.md §2, GRAPH_API.md §4.3, §5.4) and the choice of how to send.

Pure functions: :func:`window_for` tells which window applies and when it closes;
:func:`choose_send_kind` is what ``reply``/``ack`` (core.outbox, core.ack) ask before anything is
queued, and refuses (exit 6) with the time the window closed and a machine ``reason``.
:func:`window_for_conn` and :func:`send_kind_for_conn` are the variants that read, through
``store``, the comment a private reply answers (:func:`private_target`: by default the thread's
newest customer comment, or the one the operator names), its time, the per-comment private-reply
ledger and what Graph said about it: what ``list``/``show`` display and what sends obey.
``store.query.CLOSES_SQL`` (``expires:`` and the ``expires`` sort) is the same rule in SQL;
both use the durations of :mod:`socialdesk.models`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from socialdesk.errors import Reason, RefusedError, UsageError
from socialdesk.models import (
    HUMAN_AGENT_WINDOW,
    PRIVATE_REPLY_WINDOW,
    STANDARD_WINDOW,
    Channel,
    Direction,
    Message,
    SendKind,
    Thread,
    Window,
    WindowKind,
)

# The durations live in socialdesk.models (shared with store.query); re-exported for callers.
__all__ = [
    "HUMAN_AGENT_WINDOW",
    "PRIVATE_REPLY_WINDOW",
    "STANDARD_WINDOW",
    "PrivateTarget",
    "choose_send_kind",
    "comment_anchor",
    "private_target",
    "send_kind_for_conn",
    "window_for",
    "window_for_conn",
]

_DM_CHANNELS = (Channel.DM, Channel.IG_DM)


def _fmt(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M UTC") if dt is not None else "never (no customer message)"


def comment_anchor(thread: Thread) -> datetime:
    """The time of the thread's newest customer comment, which a private reply answers by
    default: ``last_inbound_at`` (derived from the stored messages; else ``last_message_at``).

    :func:`window_for_conn` passes the answered comment's own time instead; for the default
    comment the two are the same, and ``store.query.CLOSES_SQL`` uses ``last_inbound_at`` too.
    """
    return thread.last_inbound_at or thread.last_message_at


@dataclass(frozen=True)
class PrivateTarget:
    """The comment a private reply answers, and what is known about its one private reply."""

    comment: Message
    """A customer's comment of the thread (the top-level comment or a reply under it)."""
    used: bool
    """The outbox ledger holds a private reply to it (in flight, sent, unknown or refused)."""
    elsewhere: bool
    """Graph shows it already answered privately (``private_reply_conversation``): Meta's
    inbox or another tool sent it."""

    @property
    def author(self) -> str:
        """Who the private reply goes to, for messages (not cleaned)."""
        return self.comment.author.name or self.comment.author.id or "the customer"


def private_target(
    conn: sqlite3.Connection, thread: Thread, comment_id: str | None = None
) -> PrivateTarget | None:
    """The comment a private reply to ``thread`` answers: ``comment_id`` when given, else the
    thread's newest customer comment (``None`` when it has none).

    :class:`UsageError` (reason ``private_reply_bad_comment``) when ``comment_id`` is not a
    stored comment of this thread, or is the Page's own ("You can not reply to your own
    comments", Pages messaging guide).
    """
    from socialdesk.store.threads import get_message, private_reply_state

    if comment_id is None:
        state = private_reply_state(conn, thread.id)
        comment = get_message(conn, state.comment_id) if state is not None else None
        if state is None or comment is None:
            return None
        return PrivateTarget(comment, used=state.used, elsewhere=state.elsewhere)
    else:
        comment = get_message(conn, comment_id)
        if comment is None or comment.thread_id != thread.id:
            raise UsageError(
                f"comment {comment_id} is not a stored comment of #{thread.number}",
                hint="name a customer's comment of this thread",
                reason=Reason.PRIVATE_REPLY_BAD_COMMENT,
            )
        if comment.direction is not Direction.IN:
            raise UsageError(
                f"comment {comment_id} is the Page's own; a private reply answers a customer",
                hint="name a customer's comment of this thread",
                reason=Reason.PRIVATE_REPLY_BAD_COMMENT,
            )
    state = private_reply_state(conn, thread.id, comment.id)
    assert state is not None  # a customer comment of this thread, just read
    return PrivateTarget(comment, used=state.used, elsewhere=state.elsewhere)


def window_for(
    thread: Thread,
    now: datetime,
    human_agent: bool,
    *,
    comment_at: datetime | None = None,
    private_used: bool = False,
) -> Window:
    """The window that applies to ``thread`` at ``now``.

    DM: STANDARD until last inbound + 24 h; then HUMAN_AGENT until + 7 d when ``human_agent`` is
    on; else CLOSED (``closed_at`` = when the last window closed). Comment: PRIVATE_REPLY until
    the comment's time + 7 d while the private reply is unused, else PUBLIC (never closes); a
    comment thread without any customer comment is PUBLIC.

    ``comment_at`` is the time of the comment a private reply answers; without it, that of the
    newest customer comment (:func:`comment_anchor`). Renderers and senders holding a
    connection call :func:`window_for_conn`, which supplies it and the per-comment ledger; the
    ``expires:`` filter and sort (``store.query.CLOSES_SQL``) implement that same rule.
    """
    if thread.channel in _DM_CHANNELS:
        last_in = thread.last_inbound_at
        if last_in is None:
            return Window(WindowKind.CLOSED)
        standard_end = last_in + STANDARD_WINDOW
        if now < standard_end:
            return Window(WindowKind.STANDARD, closes_at=standard_end)
        if human_agent:
            agent_end = last_in + HUMAN_AGENT_WINDOW
            if now < agent_end:
                return Window(WindowKind.HUMAN_AGENT, closes_at=agent_end)
            return Window(WindowKind.CLOSED, closed_at=agent_end)
        return Window(WindowKind.CLOSED, closed_at=standard_end)
    if thread.last_inbound_at is None:
        return Window(WindowKind.PUBLIC)
    anchor = comment_at if comment_at is not None else comment_anchor(thread)
    private_end = anchor + PRIVATE_REPLY_WINDOW
    if not private_used and now < private_end:
        return Window(WindowKind.PRIVATE_REPLY, closes_at=private_end)
    return Window(WindowKind.PUBLIC)


def window_for_conn(
    conn: sqlite3.Connection,
    thread: Thread,
    now: datetime,
    human_agent: bool,
    *,
    comment_id: str | None = None,
) -> Window:
    """:func:`window_for` with the private reply's comment (``comment_id``, default the newest
    customer comment), its time and its ledger read from ``conn``."""
    if thread.channel in _DM_CHANNELS:
        return window_for(thread, now, human_agent)
    if comment_id is not None:
        target = private_target(conn, thread, comment_id)  # validates the named comment
        assert target is not None
        comment_at, used = target.comment.created_at, target.used or target.elsewhere
    else:
        from socialdesk.store.threads import private_reply_state

        state = private_reply_state(conn, thread.id)  # one query for a listing's rows
        if state is None:
            return window_for(thread, now, human_agent)
        comment_at, used = state.created_at, state.used or state.elsewhere
    return window_for(thread, now, human_agent, comment_at=comment_at, private_used=used)


def send_kind_for_conn(
    conn: sqlite3.Connection,
    thread: Thread,
    now: datetime,
    human_agent: bool,
    *,
    private: bool,
    human_written: bool,
    comment_id: str | None = None,
) -> SendKind:
    """:func:`choose_send_kind` with the answered comment, its time and ledger read from
    ``conn`` (``comment_id``: the comment a private reply answers; default the newest
    customer comment)."""
    if comment_id is not None and not private:
        raise UsageError(
            "a comment to answer is chosen for a private reply only; a public reply goes under "
            "the thread's top-level comment",
            reason=Reason.PRIVATE_REPLY_BAD_COMMENT,
        )
    comment = thread.channel in (Channel.COMMENT, Channel.IG_COMMENT)
    target = private_target(conn, thread, comment_id) if comment and private else None
    return choose_send_kind(
        thread,
        now,
        human_agent,
        private=private,
        human_written=human_written,
        comment_at=target.comment.created_at if target is not None else None,
        private_used=target.used if target is not None else False,
        target=target,
    )


def choose_send_kind(
    thread: Thread,
    now: datetime,
    human_agent: bool,
    *,
    private: bool,
    human_written: bool,
    comment_at: datetime | None = None,
    private_used: bool = False,
    target: PrivateTarget | None = None,
) -> SendKind:
    """How a reply to ``thread`` may be sent now, or :class:`RefusedError` (exit 6) saying why.

    ``human_written`` is true when a person wrote or chose the text for this one thread
    (``reply``); ``ack`` passes false, so it never gets ``HUMAN_AGENT``. ``target`` (from
    :func:`private_target`) names the comment a private reply answers in the refusals, and
    refuses one Graph shows answered elsewhere before any call.
    """
    if thread.channel in _DM_CHANNELS:
        if private:
            raise UsageError(
                "a private reply answers a comment; this thread is a"
                f" {'n Instagram' if thread.channel is Channel.IG_DM else ' Messenger'}"
                " conversation",
                hint="reply normally",
                reason=Reason.PRIVATE_ON_DM,
            )
        if thread.last_inbound_at is None:
            raise RefusedError(
                f"#{thread.number} has no message from the customer, so no reply window is open",
                hint="the customer has to write first",
                reason=Reason.NO_CUSTOMER_MESSAGE,
            )
        window = window_for(thread, now, human_agent)
        if window.kind is WindowKind.STANDARD:
            return SendKind.DM_RESPONSE
        if window.kind is WindowKind.HUMAN_AGENT:
            if human_written:
                return SendKind.DM_HUMAN_AGENT
            closed = (thread.last_inbound_at or now) + STANDARD_WINDOW
            raise RefusedError(
                f"the 24-hour window of #{thread.number} closed at {_fmt(closed)}; "
                "HUMAN_AGENT replies must be written by a person",
                hint="answer this thread with a reply of its own",
                reason=Reason.HUMAN_AGENT_NEEDS_PERSON,
            )
        hint = (
            "the customer has to write again first"
            if human_agent
            else "the customer has to write again first (or enable messaging.human_agent if "
            "the app has the Human Agent permission)"
        )
        raise RefusedError(
            f"the reply window of #{thread.number} closed at {_fmt(window.closed_at)}",
            hint=hint,
            reason=Reason.WINDOW_CLOSED,
        )
    if not private:
        if thread.channel is Channel.IG_COMMENT and thread.is_hidden:
            raise RefusedError(
                f"comment #{thread.number} is hidden; Instagram refuses replies to hidden comments",
                hint="unhide it first, or answer privately",
                reason=Reason.IG_REPLY_TO_HIDDEN,
            )
        return SendKind.COMMENT_PUBLIC
    whose = (
        f"{target.author}'s comment in #{thread.number}" if target else f"comment #{thread.number}"
    )
    if private_used:
        raise RefusedError(
            f"the private reply to {whose} was already used (one per comment)",
            hint="reply publicly",
            reason=Reason.PRIVATE_REPLY_USED,
        )
    if target is not None and target.elsewhere:
        raise RefusedError(
            f"{whose} was already answered privately outside socialdesk (Graph shows the "
            "conversation it opened; Meta allows one private reply per comment)",
            hint="reply publicly",
            reason=Reason.PRIVATE_REPLY_ELSEWHERE,
        )
    if thread.last_inbound_at is None:
        raise RefusedError(
            f"comment #{thread.number} has no comment from a customer to answer privately",
            hint="reply publicly",
            reason=Reason.PRIVATE_REPLY_NO_COMMENT,
        )
    window = window_for(thread, now, human_agent, comment_at=comment_at, private_used=False)
    if window.kind is not WindowKind.PRIVATE_REPLY:
        anchor = comment_at if comment_at is not None else comment_anchor(thread)
        raise RefusedError(
            f"the private-reply window of {whose} closed at "
            f"{_fmt(anchor + PRIVATE_REPLY_WINDOW)} (7 days after that comment)",
            hint="reply publicly",
            reason=Reason.PRIVATE_REPLY_CLOSED,
        )
    return SendKind.COMMENT_PRIVATE
