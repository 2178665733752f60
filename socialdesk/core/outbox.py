"""Sending through the outbox, recovering after a crash, reconciling unknown outcomes.

Called by the ``reply``/``outbox`` commands and ``core.ack``; these acting commands run
:func:`startup` (recover, then reconcile) first. ``sync`` neither recovers nor reconciles. The
rules (PRODUCT.md §5, research/PERF_RELIABILITY.md §7):

1. The intent is committed durably (``queued``) before anything else; right before the HTTP call
   the row becomes ``sending`` with ``started_at``, committed durably again.
2. After the call: ``sent`` with the API's id (and the send's side effects — tag ``acked``,
   ``done`` — in the same transaction), or ``failed`` when the API refused it synchronously
   (policy, validation, auth, throttling: the request was rejected, nothing was delivered), or
   ``unknown`` when the outcome is ambiguous (timeout or reset after the request left, 5xx,
   transient codes, a malformed reply). ``unknown`` is never resent automatically.
3. :func:`recover` (start of every acting command, via :func:`startup`): ``sending → unknown``,
   and ``queued`` rows, whose request never left, ``→ failed``.
4. :func:`reconcile` reads each thread with ``unknown`` rows back: a Page message with the same
   text created at or after ``started_at − 60 s`` (and not already claimed by another row) makes
   the row ``sent`` with that id. A row whose message is absent is marked *absent* once it is
   older than the settle delay (:data:`SETTLE_S`, env ``SOCIALDESK_OUTBOX_SETTLE_S``) — only
   then may the operator resend it (:func:`resolve`), or ``ack`` re-plan it (see ``core.ack``).

Throttling decision: a send refused with a throttling code is recorded ``failed`` with the
reason (the API rejected it before processing); the operator or the next ``ack`` run sends again.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from socialdesk.core import textcheck
from socialdesk.core.clock import Clock
from socialdesk.core.windows import choose_send_kind, private_target, send_kind_for_conn
from socialdesk.errors import (
    AuthError,
    Reason,
    RefusedError,
    SocialdeskError,
    UnavailableError,
    UsageError,
)
from socialdesk.models import (
    IG_DETAIL_HORIZON,
    INSTAGRAM_CHANNELS,
    Channel,
    Direction,
    Message,
    OutboxEntry,
    OutboxState,
    Person,
    SendKind,
    SendResult,
    Status,
    Thread,
)
from socialdesk.store import outbox as store
from socialdesk.store import threads as store_threads
from socialdesk.store.db import transaction
from socialdesk.store.lock import join_senders

if TYPE_CHECKING:
    from socialdesk.api.client import GraphClient

SKEW = timedelta(seconds=60)
"""How much earlier than ``started_at`` a matching message may be stamped (clock skew)."""

SETTLE_S = 10.0
"""How long after ``started_at`` a message must stay absent before it counts as not sent."""


def settle_seconds() -> float:
    """The settle delay: :data:`SETTLE_S` unless ``SOCIALDESK_OUTBOX_SETTLE_S`` says otherwise."""
    raw = os.environ.get("SOCIALDESK_OUTBOX_SETTLE_S", "")
    try:
        return max(0.0, float(raw)) if raw else SETTLE_S
    except ValueError:
        return SETTLE_S


class SendUnknown(UnavailableError):
    """The send may or may not have reached the customer; the row is kept ``unknown``."""


@dataclass(frozen=True)
class ReconcileReport:
    """What :func:`reconcile` found."""

    found: int = 0
    """Unknown rows whose message was found: now ``sent``."""
    absent: int = 0
    """Unknown rows whose message is clearly absent (may be resent)."""
    pending: int = 0
    """Unknown rows too recent to call absent, or whose thread could not be read."""
    recovered: int = 0
    """``sending`` rows made ``unknown`` by :func:`recover` just before."""
    errors: tuple[str, ...] = field(default_factory=tuple)

    def notices(self) -> list[str]:
        """What the operator should hear about the earlier sends settled now (may be none)."""
        out: list[str] = []
        if self.found:
            out.append(
                f"outbox: {_sends(self.found)} confirmed delivered by reading the thread back"
            )
        if self.absent:
            out.append(
                f"outbox: {_sends(self.absent)} did not arrive; resend or drop "
                f"{'it' if self.absent == 1 else 'them'} (see `socialdesk outbox`)"
            )
        return out


def _sends(n: int) -> str:
    return "1 earlier send" if n == 1 else f"{n} earlier sends"


# ---- effects applied in the transaction that confirms a send ----------------------------------


def _apply_effects(conn: sqlite3.Connection, entry: OutboxEntry) -> None:
    from socialdesk.store import triage

    now_dt = entry.finished_at or entry.created_at
    if entry.origin == "ack":
        triage.add_tags(conn, entry.thread_id, ["acked"], now=now_dt)
    if entry.done_on_sent:
        triage.set_status(conn, entry.thread_id, Status.DONE, now=now_dt)


def _private_recipient(conn: sqlite3.Connection, entry: OutboxEntry) -> str | None:
    """Who a private reply row went to: the author of the comment it answers (whose Messenger
    conversation it opens), else the thread's customer."""
    comment = store_threads.get_message(conn, entry.comment_id or entry.thread_id)
    if comment is not None and comment.author.id:
        return comment.author.id
    return store_threads.thread_customer(conn, entry.thread_id)


def _echo(conn: sqlite3.Connection, entry: OutboxEntry, message_id: str, now: datetime) -> None:
    """Record the sent message in the thread it lands in, pending read-back (store.echoes).

    A DM or a public comment reply lands in its own thread; a private reply in the customer's
    Messenger conversation (of the answered comment's author), when that is cached (else there
    is no thread to show it in yet).
    """
    from socialdesk.store import echoes
    from socialdesk.store.pages import page_name

    thread_id: str | None = entry.thread_id
    ig = store_threads.thread_channel(conn, entry.thread_id) in INSTAGRAM_CHANNELS
    channel = Channel.COMMENT if entry.kind is SendKind.COMMENT_PUBLIC else Channel.DM
    if ig:
        channel = Channel.IG_COMMENT if channel is Channel.COMMENT else Channel.IG_DM
    if entry.kind is SendKind.COMMENT_PRIVATE:
        customer = _private_recipient(conn, entry)
        thread_id = (
            store_threads.dm_thread_for(conn, entry.page_id, customer, channel.value)
            if customer
            else None
        )
    if thread_id is None:
        return
    echoes.record_echo(
        conn,
        page_id=entry.page_id,
        thread_id=thread_id,
        channel=channel,
        message_id=message_id,
        text=entry.text,
        author=Person(entry.page_id, page_name(conn, entry.page_id)),
        outbox_id=entry.id,
        now=now,
    )


def _confirm(
    conn: sqlite3.Connection, outbox_id: int, message_id: str, *, now: datetime
) -> OutboxEntry:
    """Mark sent, apply the side effects and echo the message locally, in one durable
    transaction."""
    with transaction(conn, durable=True):
        store.mark_sent(conn, outbox_id, message_id, now=now)
        rec = store.get(conn, outbox_id)
        if rec.entry.state is OutboxState.SENT and rec.entry.message_id == message_id:
            _apply_effects(conn, rec.entry)
            _echo(conn, rec.entry, message_id, now)
    return rec.entry


# ---- start-up ---------------------------------------------------------------------------------


def recover(conn: sqlite3.Connection, *, now: datetime, page_id: str | None = None) -> int:
    """``sending → unknown`` and leftover ``queued → failed``; returns the rows made unknown.

    Only rows of dead processes are touched: while another sender is alive (its shared place
    in :func:`socialdesk.store.lock.join_senders`), its rows are left alone.
    """
    if not join_senders(conn):
        return 0
    with transaction(conn, durable=True):
        unknown, _ = store.recover_interrupted(conn, now=now, page_id=page_id)
    return unknown


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").strip().split("\n"))


READ_BACK_DM = 50
"""How many of a conversation's newest messages reconciliation reads (one request)."""


@dataclass(frozen=True)
class _ReadBack:
    messages: list[Message]
    complete: bool
    """Whether ``messages`` is the whole thread (else only its newest part)."""
    conversation: str | None = None
    """The Messenger conversation read (None for a comment thread)."""


def _read_back(
    conn: sqlite3.Connection, client: GraphClient, page_id: str, entry: OutboxEntry
) -> _ReadBack | None:
    """The Page's recent messages where ``entry`` would have landed; ``None`` if unknowable."""
    from socialdesk.api import graph

    if store_threads.thread_channel(conn, entry.thread_id) in INSTAGRAM_CHANNELS:
        return _read_back_instagram(conn, client, page_id, entry)
    if entry.kind is SendKind.COMMENT_PUBLIC:
        # Every page of replies is read: the list is complete.
        return _ReadBack(graph.get_comment_thread(client, page_id, entry.thread_id), True)
    if entry.kind in (SendKind.DM_RESPONSE, SendKind.DM_HUMAN_AGENT):
        conv: str | None = entry.thread_id
    else:
        # A private reply lands in the commenter's Messenger conversation, if we know it.
        customer = _private_recipient(conn, entry)
        conv = store_threads.dm_thread_for(conn, page_id, customer) if customer else None
    if conv is None:
        return None
    msgs = graph.get_conversation_messages(client, page_id, conv, limit=READ_BACK_DM)
    # The client may have shrunk the page after a "reduce the amount of data" answer.
    asked = min(READ_BACK_DM, client.page_size.get(graph.EDGE_MESSAGES, READ_BACK_DM))
    return _ReadBack(msgs, len(msgs) < asked, conv)


def _read_back_instagram(
    conn: sqlite3.Connection, client: GraphClient, page_id: str, entry: OutboxEntry
) -> _ReadBack | None:
    """The Instagram read-back: every reply of a comment, or a DM thread's 20 newest messages.

    Only the 20 newest messages of an Instagram thread have details, so the read-back is
    complete only when the thread holds fewer; with more, absence proves nothing unless an
    older message shows (``_covers``), and the send stays ``unknown``: never sent twice.
    """
    from socialdesk.api import graph_ig
    from socialdesk.store.pages import get_instagram

    account = get_instagram(conn, page_id).account
    if account is None:
        return None
    if entry.kind is SendKind.COMMENT_PUBLIC:
        return _ReadBack(graph_ig.get_ig_replies(client, account, entry.thread_id), True)
    conv: str | None = entry.thread_id
    if entry.kind is SendKind.COMMENT_PRIVATE:
        customer = store_threads.thread_customer(conn, entry.thread_id)
        conv = store_threads.dm_thread_for(conn, page_id, customer, "ig_dm") if customer else None
    if conv is None:
        return None
    msgs = graph_ig.get_ig_thread_messages(client, account.id, conv)
    return _ReadBack(msgs, len(msgs) < IG_DETAIL_HORIZON, conv)


def _claimed(conn: sqlite3.Connection, page_id: str, thread_id: str, back: _ReadBack) -> set[str]:
    """Message ids of the read-back that other outbox rows already own.

    A conversation holds DM replies (rows of the conversation) and private replies (rows of
    the customer's comment threads): both kinds are excluded, whichever kind is reconciled.
    """
    claimed = store.sent_message_ids(conn, thread_id)
    conv = back.conversation
    if conv is not None:
        if conv != thread_id:
            claimed |= store.sent_message_ids(conn, conv)
        customer = store_threads.thread_customer(conn, conv)
        if customer:
            claimed |= store.private_reply_message_ids(conn, page_id, customer)
    return claimed


def _covers(back: _ReadBack, since: datetime) -> bool:
    """Whether the read-back shows everything created since ``since`` (so absence is proof)."""
    return back.complete or any(m.created_at < since for m in back.messages)


def reconcile(
    conn: sqlite3.Connection,
    client: GraphClient,
    page_id: str,
    *,
    now: datetime,
    settle_s: float | None = None,
) -> ReconcileReport:
    """Read back every thread holding ``unknown`` rows of this page and settle what can be."""
    settle = timedelta(seconds=settle_seconds() if settle_s is None else settle_s)
    rows = store.list_records(conn, page_id=page_id, states=[OutboxState.UNKNOWN])
    # Private replies of one thread may answer different people: grouped by the comment too.
    by_thread: dict[tuple[str, SendKind, str | None], list[store.OutboxRecord]] = {}
    for rec in rows:
        key = (rec.entry.thread_id, rec.entry.kind, rec.entry.comment_id)
        by_thread.setdefault(key, []).append(rec)
    found = absent = pending = 0
    errors: list[str] = []
    for (thread_id, _kind, _comment), recs in by_thread.items():
        try:
            back = _read_back(conn, client, page_id, recs[0].entry)
        except AuthError:
            raise
        except SocialdeskError as exc:
            errors.append(f"{thread_id}: {exc.message}")
            pending += len(recs)
            continue
        if back is None:
            pending += len(recs)
            continue
        claimed = _claimed(conn, page_id, thread_id, back)
        outs = sorted(
            (m for m in back.messages if m.direction is Direction.OUT and m.id not in claimed),
            key=lambda m: m.created_at,
        )
        for rec in sorted(recs, key=lambda r: r.entry.id):
            entry = rec.entry
            started = entry.started_at or entry.created_at
            want = _normal(entry.text)
            match = next(
                (m for m in outs if m.created_at >= started - SKEW and _normal(m.text) == want),
                None,
            )
            if match is not None:
                outs.remove(match)
                _confirm(conn, entry.id, match.id, now=now)
                found += 1
            elif now - started >= settle and _covers(back, started - SKEW):
                with transaction(conn, durable=True):
                    store.mark_absent(conn, entry.id, now=now)
                absent += 1
            else:
                pending += 1
    return ReconcileReport(found=found, absent=absent, pending=pending, errors=tuple(errors))


def startup(
    conn: sqlite3.Connection,
    client: GraphClient | None,
    page_id: str,
    *,
    now: datetime,
    settle_s: float | None = None,
) -> ReconcileReport:
    """What every acting command does first: :func:`recover`, then :func:`reconcile`."""
    recovered = recover(conn, now=now, page_id=page_id)
    if client is None:
        return ReconcileReport(recovered=recovered)
    rep = reconcile(conn, client, page_id, now=now, settle_s=settle_s)
    return ReconcileReport(
        found=rep.found,
        absent=rep.absent,
        pending=rep.pending,
        recovered=recovered,
        errors=rep.errors,
    )


# ---- sending ----------------------------------------------------------------------------------


def _call(client: GraphClient, thread: Thread, entry: OutboxEntry) -> SendResult:
    from socialdesk.api import graph

    kind, text = entry.kind, entry.text
    if kind is SendKind.DM_RESPONSE:
        return graph.send_message(
            client, thread.page_id, text=text, recipient_id=thread.customer.id
        )
    if kind is SendKind.DM_HUMAN_AGENT:
        return graph.send_message(
            client,
            thread.page_id,
            text=text,
            recipient_id=thread.customer.id,
            messaging_type="MESSAGE_TAG",
            tag="HUMAN_AGENT",
        )
    if kind is SendKind.COMMENT_PRIVATE:
        # The comment the row answers (rows older than m008 answered the top-level comment).
        answers = entry.comment_id or thread.id
        return graph.send_message(client, thread.page_id, text=text, comment_id=answers)
    if thread.channel is Channel.IG_COMMENT:
        from socialdesk.api import graph_ig

        # The thread id is the top-level comment: Instagram replies only there, via /replies.
        return graph_ig.reply_to_ig_comment(client, thread.id, text)
    return graph.reply_to_comment(client, thread.id, text)


def _is_rejection(exc: BaseException) -> bool:
    """Whether ``exc`` proves the API did not deliver the message."""
    from socialdesk.api import errors as gerr

    if isinstance(exc, gerr.GraphError) and not exc.request_sent:
        return True
    if isinstance(exc, gerr.TransientError):
        return False  # 5xx, codes 1/2/1200, timeouts, resets, malformed replies: ambiguous
    if isinstance(
        exc,
        gerr.PolicyRefused
        | gerr.InvalidRequest
        | gerr.TokenInvalid
        | gerr.PermissionDenied
        | gerr.Throttled,
    ):
        return True
    if isinstance(exc, gerr.GraphError):
        return exc.http_status is not None and 400 <= exc.http_status < 500
    return False


def _name_human_agent_permission(exc: BaseException, kind: SendKind) -> None:
    """A HUMAN_AGENT send refused for permissions says which permission, and the fix.

    The generic permission hint would send the operator to log in again, which cannot help:
    the Human Agent permission is granted to the app by Meta's App Review.
    """
    from socialdesk.api.errors import PermissionDenied

    if kind is SendKind.DM_HUMAN_AGENT and isinstance(exc, PermissionDenied):
        exc.message = (
            "the app lacks Meta's Human Agent permission, which replies after 24 hours need "
            f"({exc.message})"
        )
        exc.hint = (
            "request the Human Agent permission for the app in Meta's App Review; until it is "
            "granted, set messaging.human_agent = false (replies then stay within 24 hours)"
        )
        exc.reason = Reason.HUMAN_AGENT_PERMISSION


@dataclass(frozen=True)
class Prepared:
    """Rows queued for one reply (several with ``--split``), ready to be sent in order."""

    thread: Thread
    kind: SendKind
    ids: tuple[int, ...]


def private_reply_is_one_message() -> UsageError:
    """The error for a private reply that would be split: Graph allows one message."""
    return UsageError(
        "a comment's private reply is one message",
        hint="shorten the text to one message",
        reason=Reason.PRIVATE_REPLY_ONE_MESSAGE,
    )


def queue(
    conn: sqlite3.Connection,
    thread: Thread,
    texts: Sequence[str],
    *,
    now: datetime,
    human_agent: bool,
    private: bool = False,
    human_written: bool = True,
    origin: str = "reply",
    batch: str | None = None,
    kind: SendKind | None = None,
    guard: Callable[[sqlite3.Connection], None] | None = None,
    done: bool = False,
    on_queued: Callable[[sqlite3.Connection, tuple[int, ...]], None] | None = None,
    comment_id: str | None = None,
) -> Prepared:
    """Check the rules and queue ``texts`` (already checked by textcheck) in one durable commit.

    A private reply answers ``comment_id``, by default the thread's newest customer comment
    (``core.windows.private_target``); the row records which. That comment's ledger, what Graph
    said about it and its window are checked inside the same transaction, so two processes
    cannot both queue its private reply. ``guard`` runs inside that
    transaction too (``ack`` re-checks there that nobody acted on the thread meanwhile).
    ``done`` marks the thread done when the LAST part is confirmed (a split reply is done once
    all of it arrived, not the first part). ``on_queued`` runs in the same transaction once the
    rows exist (a resend records which row replaced the old one).
    """
    if not texts:
        raise UsageError("nothing to send", reason=Reason.TEXT_EMPTY)
    join_senders(conn)  # queued rows of a live process are not orphans
    chars, max_bytes = textcheck.limits_for(
        thread.channel, private=private or kind is SendKind.COMMENT_PRIVATE
    )
    for t in texts:
        # Instagram's 1,000-byte cap is checked here too: before anything is queued.
        textcheck.check_text(t, limit=chars, max_bytes=max_bytes)
    if private and len(texts) > 1:
        raise private_reply_is_one_message()
    with transaction(conn, durable=True):
        if guard is not None:
            guard(conn)
        if kind is None:
            kind = send_kind_for_conn(
                conn,
                thread,
                now,
                human_agent,
                private=private,
                human_written=human_written,
                comment_id=comment_id,
            )
        answers: str | None = None
        if kind is SendKind.COMMENT_PRIVATE:
            target = private_target(conn, thread, comment_id)
            if target is None:
                raise RefusedError(
                    f"comment #{thread.number} has no comment from a customer to answer privately",
                    hint="reply publicly",
                    reason=Reason.PRIVATE_REPLY_NO_COMMENT,
                )
            if target.used or target.elsewhere:
                choose_send_kind(
                    thread,
                    now,
                    human_agent,
                    private=True,
                    human_written=True,
                    private_used=target.used,
                    target=target,
                )
            answers = target.comment.id
        ids = tuple(
            store.enqueue(
                conn,
                page_id=thread.page_id,
                thread_id=thread.id,
                kind=kind,
                text=t,
                now=now,
                origin=origin,
                batch=batch,
                done_on_sent=done and i == len(texts) - 1,
                comment_id=answers,
            )
            for i, t in enumerate(texts)
        )
        if on_queued is not None:
            on_queued(conn, ids)
    return Prepared(thread, kind, ids)


def send_one(
    conn: sqlite3.Connection,
    client: GraphClient,
    thread: Thread,
    outbox_id: int,
    *,
    clock: Clock,
) -> OutboxEntry:
    """Send one queued row: ``sending`` (durable) → HTTP → ``sent | failed | unknown``.

    Returns the final entry when sent; raises the API's error after recording ``failed``, or
    :class:`SendUnknown` after recording ``unknown``.
    """
    join_senders(conn)  # so that no other process takes this row for an orphan
    rec = store.get(conn, outbox_id)
    with transaction(conn, durable=True):
        if not store.mark_sending(conn, outbox_id, now=clock.now()):
            raise UsageError(f"outbox entry {outbox_id} is no longer queued")
    try:
        result = _call(client, thread, rec.entry)
    except BaseException as exc:
        if _is_rejection(exc):
            from socialdesk.api.errors import PolicyRefused

            _name_human_agent_permission(exc, rec.entry.kind)
            reason = exc.message if isinstance(exc, SocialdeskError) else str(exc)
            with transaction(conn, durable=True):
                store.mark_failed(
                    conn,
                    outbox_id,
                    reason,
                    now=clock.now(),
                    refused=isinstance(exc, PolicyRefused),
                )
            raise
        reason = (
            exc.message if isinstance(exc, SocialdeskError) else type(exc).__name__
        ) or "ambiguous outcome"
        with transaction(conn, durable=True):
            store.mark_unknown(conn, outbox_id, reason, now=clock.now())
        if isinstance(exc, Exception):
            raise SendUnknown(
                f"the send to #{thread.number} may or may not have arrived ({reason}); "
                f"it is kept as outbox entry {outbox_id} (unknown)",
                hint="it is checked against the thread at the next start; see `socialdesk outbox`",
            ) from exc
        raise
    return _confirm(conn, outbox_id, result.message_id, now=clock.now())


def send_prepared(
    conn: sqlite3.Connection,
    client: GraphClient,
    prepared: Prepared,
    *,
    clock: Clock,
    sent: list[OutboxEntry] | None = None,
) -> list[OutboxEntry]:
    """Send every queued part in order; stop at the first part that is not sent.

    Parts after a failure stay as they are (``queued``) only until the next :func:`recover`, which
    marks them failed: here they are marked failed at once, so nothing lingers. ``sent`` (a
    list of the caller's) receives each part as it is confirmed, so a caller that sees the
    failure still knows which parts arrived.
    """
    sent = sent if sent is not None else []
    for i, oid in enumerate(prepared.ids):
        try:
            sent.append(send_one(conn, client, prepared.thread, oid, clock=clock))
        except BaseException:
            with transaction(conn, durable=True):
                for rest in prepared.ids[i + 1 :]:
                    store.mark_failed(
                        conn, rest, "not sent: an earlier part failed", now=clock.now()
                    )
            raise
    return sent


def settle_interrupted(
    conn: sqlite3.Connection, ids: Sequence[int], *, now: datetime
) -> list[OutboxState]:
    """This process's rows of a send it was interrupted in: ``queued`` (the request was never
    made) become ``failed``, ``sending`` (it may have left) ``unknown``; the final states.

    What :func:`recover` does for a dead process, done at once by the live one, so an
    interrupted run leaves nothing queued or sending behind.
    """
    with transaction(conn, durable=True):
        for oid in ids:
            store.mark_not_sent(conn, oid, "not sent: interrupted", now=now)
            store.mark_unknown(conn, oid, "interrupted while sending", now=now)
        return [store.get(conn, oid).entry.state for oid in ids]


# ---- resolution by the operator -----------------------------------------------------------------


def drop(conn: sqlite3.Connection, outbox_id: int, *, now: datetime) -> OutboxEntry:
    """Give up on an unknown/failed/queued row: it becomes ``failed`` ("dropped").

    Checked and written in one transaction, so a drop racing a resend of the same row cannot
    overwrite the resend's resolution (one of the two wins, the other is refused).
    """
    with transaction(conn, durable=True):
        rec = store.get(conn, outbox_id)
        if rec.entry.state is OutboxState.SENT:
            raise UsageError(f"outbox entry {outbox_id} was sent; there is nothing to drop")
        if rec.entry.state is OutboxState.SENDING:
            raise UsageError(f"outbox entry {outbox_id} is being sent right now")
        if not store.claim_resolution(conn, outbox_id, "dropped", now=now):
            raise UsageError(f"outbox entry {outbox_id} was already resolved ({rec.resolution})")
        if rec.entry.state is not OutboxState.FAILED:
            store.mark_failed(conn, outbox_id, "dropped by the operator", now=now)
    return store.get(conn, outbox_id).entry


def _resend_problem(rec: store.OutboxRecord) -> str | None:
    """Why ``rec`` may not be resent, or ``None`` when it may (the one rule, shown and applied)."""
    entry = rec.entry
    oid = entry.id
    if entry.state is OutboxState.SENT:
        return f"outbox entry {oid} was already sent (message {entry.message_id})"
    if entry.state is OutboxState.UNKNOWN and rec.absent_at is None:
        return (
            f"outbox entry {oid} may have arrived: reading the thread back has not shown "
            "it absent yet"
        )
    if entry.state in (OutboxState.SENDING, OutboxState.QUEUED):
        return f"outbox entry {oid} is still {entry.state}"
    if rec.resolution is not None:
        return f"outbox entry {oid} was already resolved ({rec.resolution})"
    return None


def can_resend(rec: store.OutboxRecord) -> bool:
    """Whether the operator may resend this row now (failed, or unknown and proven absent)."""
    return _resend_problem(rec) is None


def resend(
    conn: sqlite3.Connection,
    client: GraphClient,
    thread: Thread,
    outbox_id: int,
    *,
    clock: Clock,
    human_agent: bool,
) -> OutboxEntry:
    """Send a failed or clearly-absent unknown row again, as a new row (window rules re-checked).

    An ``unknown`` row that read-back has not proven absent is refused: it may have arrived.
    The claim on the old row (its resolution) and the new queued row are written in ONE write
    transaction, and the old row's state is re-read inside it: of several processes resending
    the same row at once, exactly one queues a copy; the others are refused.
    """
    rec = store.get(conn, outbox_id)
    problem = _resend_problem(rec)
    if problem is not None:
        raise UsageError(problem, reason=Reason.OUTBOX_NOT_RESENDABLE)
    entry = rec.entry
    now = clock.now()

    def claim(c: sqlite3.Connection) -> None:
        fresh = store.get(c, outbox_id)
        why = _resend_problem(fresh)
        if why is not None:
            raise UsageError(why, reason=Reason.OUTBOX_NOT_RESENDABLE)
        if fresh.entry.state is OutboxState.UNKNOWN:
            # The old row stops counting in the private-reply ledger before the new one is queued.
            store.mark_failed(c, outbox_id, "absent after read-back; resent", now=now)

    def record(c: sqlite3.Connection, ids: tuple[int, ...]) -> None:
        if not store.claim_resolution(c, outbox_id, f"resent:{ids[0]}", now=now):
            raise UsageError(
                f"outbox entry {outbox_id} was resolved by another process meanwhile",
                reason=Reason.OUTBOX_NOT_RESENDABLE,
            )

    prepared = queue(
        conn,
        thread,
        [entry.text],
        now=now,
        human_agent=human_agent,
        private=entry.kind is SendKind.COMMENT_PRIVATE,
        human_written=entry.origin not in ("ack", "rule"),  # automated text: never HUMAN_AGENT
        origin=entry.origin,
        batch=rec.batch,
        done=entry.done_on_sent,
        guard=claim,
        on_queued=record,
        comment_id=entry.comment_id,
    )
    return send_prepared(conn, client, prepared, clock=clock)[0]


ATTENTION_STATES = (OutboxState.UNKNOWN, OutboxState.FAILED, OutboxState.QUEUED)
"""States a row may need the operator in (unless resolved already)."""

OutboxRecord = store.OutboxRecord
"""An outbox row with what only the outbox tracks about it (read-back, resolution)."""


@dataclass(frozen=True)
class Attention:
    """A row for the operator's decision: the row, its thread's number, whether it may be
    resent now (:func:`can_resend`)."""

    record: OutboxRecord
    number: int | None
    can_resend: bool


def pending(
    conn: sqlite3.Connection, page_id: str, *, everything: bool = False, limit: int | None = None
) -> list[Attention]:
    """The rows needing the operator's decision (unknown, failed or queued, unresolved), oldest
    first; ``everything``: every row of the page."""
    states = None if everything else list(ATTENTION_STATES)
    recs = store.list_records(conn, page_id=page_id, states=states, limit=limit)
    if not everything:
        recs = [r for r in recs if r.resolution is None]
    numbers = store_threads.numbers_of(conn, [r.entry.thread_id for r in recs])
    return [Attention(r, numbers.get(r.entry.thread_id), can_resend(r)) for r in recs]


def _record_of_page(conn: sqlite3.Connection, outbox_id: int, page_id: str) -> store.OutboxRecord:
    rec = store.get(conn, outbox_id)
    if rec.entry.page_id != page_id:
        raise UsageError(
            f"outbox entry {outbox_id} belongs to page {rec.entry.page_id}",
            hint=f"act on it as page {rec.entry.page_id}",
            reason=Reason.OUTBOX_OTHER_PAGE,
        )
    return rec


def resolve_drop(
    conn: sqlite3.Connection, page_id: str, outbox_id: int, *, now: datetime
) -> OutboxEntry:
    """The operator gives up on a row of ``page_id`` (see :func:`drop`)."""
    _record_of_page(conn, outbox_id, page_id)
    return drop(conn, outbox_id, now=now)


def resolve_resend(
    conn: sqlite3.Connection,
    client: GraphClient,
    page_id: str,
    outbox_id: int,
    *,
    clock: Clock,
    human_agent: bool,
) -> tuple[Thread, OutboxEntry]:
    """The operator sends a row of ``page_id`` again (see :func:`resend`): its thread and the
    new, sent entry. The outbox is recovered and reconciled first (:func:`startup`)."""
    rec = _record_of_page(conn, outbox_id, page_id)
    startup(conn, client, page_id, now=clock.now())
    # A stored Graph id, not a user reference: never parse it as `#N` or a number.
    thread = store_threads.get_thread(conn, rec.entry.thread_id, now=clock.now())
    if thread is None:
        raise UsageError(
            f"outbox entry {outbox_id}: its thread is no longer stored",
            reason=Reason.OUTBOX_NOT_RESENDABLE,
        )
    entry = resend(conn, client, thread, outbox_id, clock=clock, human_agent=human_agent)
    return thread, entry
