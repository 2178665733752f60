"""Reply windows (PRODUCT.md §2, GRAPH_API.md §4.3, §5.4) and the choice of how to send.

Pure functions: :func:`window_for` tells which window applies and when it closes;
:func:`choose_send_kind` is what ``reply``/``ack`` (core.outbox, core.ack) ask before anything is
queued, and refuses (exit 6) with the time the window closed and a machine ``reason``.
:func:`window_for_conn` and :func:`send_kind_for_conn` are the variants that read the comment's
own time and the private-reply ledger from the database (through ``store``): what
``list``/``show`` display and what sends obey. ``store.query.CLOSES_SQL`` (``expires:`` and the
``expires`` sort) is the same rule in SQL; both use the durations of :mod:`socialdesk.models`.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from socialdesk.errors import Reason, RefusedError, UsageError
from socialdesk.models import (
    HUMAN_AGENT_WINDOW,
    PRIVATE_REPLY_WINDOW,
    STANDARD_WINDOW,
    Channel,
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
    "choose_send_kind",
    "comment_anchor",
    "send_kind_for_conn",
    "window_for",
    "window_for_conn",
]

_DM_CHANNELS = (Channel.DM, Channel.IG_DM)


def _fmt(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M UTC") if dt is not None else "never (no customer message)"


def comment_anchor(thread: Thread) -> datetime:
    """Stand-in for the top-level comment's time when it is not known: ``request_at``, else
    ``last_inbound_at`` (else ``last_message_at``).

    A Thread carries no creation time. These are the times of messages of the thread, so never
    earlier than the comment: the window shown from them may close later than the real one.
    :func:`window_for_conn` reads the real time from the messages table and uses this only when
    the top-level comment is not stored; ``store.query.CLOSES_SQL`` falls back the same way.
    """
    return thread.request_at or thread.last_inbound_at or thread.last_message_at


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

    ``comment_at`` is the top-level comment's time; without it the comment's time is
    :func:`comment_anchor` (an approximation). Renderers and senders holding a connection call
    :func:`window_for_conn`, which supplies it and the private-reply ledger; the ``expires:``
    filter and sort (``store.query.CLOSES_SQL``) implement that same rule.
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
    conn: sqlite3.Connection, thread: Thread, now: datetime, human_agent: bool
) -> Window:
    """:func:`window_for` with the comment time and the private-reply ledger read from ``conn``."""
    if thread.channel in _DM_CHANNELS:
        return window_for(thread, now, human_agent)
    from socialdesk.store.outbox import private_reply_used
    from socialdesk.store.threads import comment_created_at

    return window_for(
        thread,
        now,
        human_agent,
        comment_at=comment_created_at(conn, thread.id),
        private_used=private_reply_used(conn, thread.id),
    )


def send_kind_for_conn(
    conn: sqlite3.Connection,
    thread: Thread,
    now: datetime,
    human_agent: bool,
    *,
    private: bool,
    human_written: bool,
) -> SendKind:
    """:func:`choose_send_kind` with the comment time and the ledger read from ``conn``."""
    from socialdesk.store.outbox import private_reply_used
    from socialdesk.store.threads import comment_created_at

    comment = thread.channel in (Channel.COMMENT, Channel.IG_COMMENT)
    return choose_send_kind(
        thread,
        now,
        human_agent,
        private=private,
        human_written=human_written,
        comment_at=comment_created_at(conn, thread.id) if comment else None,
        private_used=private_reply_used(conn, thread.id) if comment else False,
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
) -> SendKind:
    """How a reply to ``thread`` may be sent now, or :class:`RefusedError` (exit 6) saying why.

    ``human_written`` is true when a person wrote or chose the text for this one thread
    (``reply``); ``ack`` passes false, so it never gets ``HUMAN_AGENT``.
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
    if private_used:
        raise RefusedError(
            f"the private reply to comment #{thread.number} was already used",
            hint="reply publicly",
            reason=Reason.PRIVATE_REPLY_USED,
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
            f"the private-reply window of comment #{thread.number} closed at "
            f"{_fmt(anchor + PRIVATE_REPLY_WINDOW)}",
            hint="reply publicly",
            reason=Reason.PRIVATE_REPLY_CLOSED,
        )
    return SendKind.COMMENT_PRIVATE
