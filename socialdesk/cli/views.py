"""Every ``--json`` shape of the command line, built in one place with one time formatter.

Called by the ``cmd_*`` modules; pure (no Rich, no I/O). Every time goes through
:func:`socialdesk.format.iso` (ISO 8601 UTC ending in ``Z``, whole seconds) and every absent
value is ``None`` (``null``). The README's "JSON output" section documents these shapes and
``tests/cli/test_json_contract.py`` holds them to it, field by field. Customer text stays as it
was received: ``output.to_json`` escapes what a terminal could act on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from socialdesk.core.ack import AckReport
from socialdesk.core.ack_plan import Plan, Skipped
from socialdesk.core.auth import AuthStatus, PageRow, PageStatus
from socialdesk.core.health import HealthReport, ProbeReport
from socialdesk.core.inbox import Listing, ThreadDetail, ThreadRow
from socialdesk.core.outbox import Attention
from socialdesk.core.replying import ReplyOutcome
from socialdesk.core.triage import TriageResult
from socialdesk.format import iso
from socialdesk.models import Message, OutboxEntry, SyncReport, Thread, Window

JSON = dict[str, Any]


def window(w: Window) -> JSON:
    """``{kind, closes_at, closed_at}``."""
    return {"kind": w.kind.value, "closes_at": iso(w.closes_at), "closed_at": iso(w.closed_at)}


def thread(t: Thread, w: Window) -> JSON:
    """One thread as ``list`` shows it."""
    return {
        "number": t.number,
        "id": t.id,
        "page_id": t.page_id,
        "channel": t.channel.value,
        "status": t.status.value,
        "snoozed_until": iso(t.snoozed_until),
        "tags": list(t.tags),
        "customer": {
            "id": t.customer.id,
            "name": t.customer.name,
            "username": t.customer.username,
        },
        "awaiting_reply": t.awaiting_reply,
        "unread": t.unread,
        "request_at": iso(t.request_at),
        "last_message_at": iso(t.last_message_at),
        "window": window(w),
        "snippet": t.snippet,
        "gaps": t.gaps,
    }


def row(r: ThreadRow) -> JSON:
    """A listed thread."""
    return thread(r.thread, r.window)


def listing(result: Listing, query: str | None) -> JSON:
    """``list --json``: the threads and whether the limit cut the listing."""
    return {
        "query": query,
        "threads": [row(r) for r in result.rows],
        "shown": len(result.rows),
        "total": result.total,
        "truncated": result.truncated,
    }


def message(m: Message, *, echoed: bool = False) -> JSON:
    """One message of ``show``."""
    return {
        "id": m.id,
        "direction": m.direction.value,
        "author": {"id": m.author.id, "name": m.author.name, "username": m.author.username},
        "text": m.text,
        "attachments": [
            {"kind": a.kind, "url": a.url, "name": a.name, "mime_type": a.mime_type}
            for a in m.attachments
        ],
        "created_at": iso(m.created_at),
        "parent_id": m.parent_id,
        "is_hidden": m.is_hidden,
        "pending_read_back": echoed,
    }


def detail(d: ThreadDetail) -> JSON:
    """``show --json``: the thread, its messages, note, post and the customer's other threads."""
    out = thread(d.thread, d.window)
    out["note"] = d.thread.note
    out["post"] = None
    if d.post is not None:
        out["post"] = {"id": d.post.id, "message": d.post.message}
    elif d.thread.post_id is not None:
        out["post"] = {"id": d.thread.post_id, "message": d.thread.post_message}
    out["messages"] = [message(m, echoed=m.id in d.echoed) for m in d.messages]
    out["has_older"] = d.has_older
    out["other_threads"] = [r.thread.number for r in d.others]
    out["gap_markers"] = [{"after": iso(a), "before": iso(b)} for a, b in d.gaps]
    return out


def count(query: str | None, n: int) -> JSON:
    """``count --json``."""
    return {"query": query, "count": n}


def outbox_entry(e: OutboxEntry) -> JSON:
    """One outbox row."""
    return {
        "id": e.id,
        "thread_id": e.thread_id,
        "kind": e.kind.value,
        "state": e.state.value,
        "origin": e.origin,
        "text": e.text,
        "created_at": iso(e.created_at),
        "started_at": iso(e.started_at),
        "finished_at": iso(e.finished_at),
        "message_id": e.message_id,
        "error": e.error,
        "refused": e.refused,
        "comment_id": e.comment_id,
    }


def outbox_row(a: Attention) -> JSON:
    """``outbox --json``: a row with what the operator's decision needs."""
    out = outbox_entry(a.record.entry)
    out["thread"] = a.number
    out["absent_at"] = iso(a.record.absent_at)
    out["resolution"] = a.record.resolution
    out["can_resend"] = a.can_resend
    return out


def outbox_resolved(
    outbox_id: int, action: str, entry: OutboxEntry, number: int | None = None
) -> JSON:
    """``outbox resolve --json``: what happened to the row (``new_id`` for a resend)."""
    resent = action == "resent"
    return {
        "id": outbox_id,
        "action": action,
        "state": entry.state.value,
        "new_id": entry.id if resent else None,
        "message_id": entry.message_id if resent else None,
        "thread": number,
    }


def reply(t: Thread, outcome: ReplyOutcome) -> JSON:
    """``reply --json``: how the send ended, and the thread's status after it."""
    after = outcome.thread or t
    return {
        "thread": t.number,
        "thread_id": t.id,
        "state": outcome.state,
        "kind": outcome.kind.value if outcome.kind is not None else None,
        "status": after.status.value,
        "done": after.status.value == "done",
        "sent": [outbox_entry(e) for e in outcome.entries],
        "reason": outcome.reason,
        "next_step": outcome.next_step,
        "notices": list(outcome.notices),
        "recipient": outcome.recipient,
    }


def triage(result: TriageResult) -> JSON:
    """``done``/``reopen``/``snooze``/``tag``/``note``/``hide``/``unhide`` ``--json``."""
    return {
        "action": result.action,
        "until": iso(result.until),
        "threads": [
            {
                "thread": o.thread.number,
                "thread_id": o.thread.id,
                "changed": o.changed,
                "status": o.thread.status.value,
                "snoozed_until": iso(o.thread.snoozed_until),
                "tags": list(o.thread.tags),
                "hidden": o.thread.is_hidden,
                "detail": list(o.detail),
            }
            for o in result.outcomes
        ],
        "warnings": list(result.warnings),
    }


def _skipped(s: Skipped) -> JSON:
    return {
        "thread": s.number,
        "thread_id": s.thread_id,
        "reason": s.reason.value,
        "detail": s.detail,
    }


def ack_plan(plan: Plan) -> JSON:
    """``ack --dry-run --json`` and ``ack --plan FILE --json``: what would be sent."""
    return {
        "plan_id": plan.plan_id,
        "page_id": plan.page_id,
        "query": plan.query,
        "template": plan.template,
        "done": plan.done,
        "created_at": iso(plan.created_at),
        "items": [
            {
                "thread": it.number,
                "thread_id": it.thread_id,
                "customer": {"id": it.customer_id, "name": it.customer_name},
                "channel": it.channel,
                "send_kind": it.kind.value,
                "text": it.text,
            }
            for it in plan.items
        ],
        "skipped": [_skipped(s) for s in plan.skipped],
    }


def ack_report(report: AckReport) -> JSON:
    """``ack --json`` after sending (or after an interrupt: the summary so far)."""
    return {
        "sent": len(report.sent),
        "skipped": len(report.skipped),
        "failed": len(report.failed),
        "unknown": len(report.unknown),
        "skipped_by_reason": {k.value: n for k, n in sorted(report.skipped_by_reason().items())},
        "sent_items": [
            {"thread": n, "outbox_id": oid, "message_id": mid} for n, oid, mid in report.sent
        ],
        "skipped_items": [_skipped(s) for s in report.skipped],
        "failed_items": [{"thread": n, "reason": r} for n, r in report.failed],
        "unknown_items": [{"thread": n, "reason": r} for n, r in report.unknown],
        "stopped": report.stopped.message if report.stopped else None,
        "interrupted": report.interrupted,
        "cancelled": report.cancelled,
    }


def sync_report(report: SyncReport) -> JSON:
    """``sync --json`` (one object per round)."""
    return report.as_dict()


def health(report: HealthReport, probes: ProbeReport | None = None) -> JSON:
    """``doctor --json`` (with ``probes`` under ``--probe``)."""
    out: JSON = {
        "ok": not report.failed,
        "checks": [
            {"name": c.name, "status": c.status, "detail": c.detail, "auth": c.auth}
            for c in report.checks
        ],
    }
    if probes is not None:
        out["probes"] = [
            {
                "number": r.number,
                "question": r.question,
                "assumption": r.assumption,
                "status": r.status.value,
                "found": r.found,
            }
            for r in probes.results
        ]
    return out


def _page_status(s: PageStatus) -> JSON:
    return {
        "page": s.page,
        "page_id": s.page_id,
        "token_source": s.token_source,
        "token_location": s.token_location,
        "token_backend": s.token_backend,
        "token_storage": s.token_storage,
        "valid": s.valid,
        "page_title": s.page_title,
        "type": s.type,
        "scopes": list(s.scopes),
        "missing_scopes": list(s.missing_scopes),
        "expires_at": iso(s.expires_at),
        "error": s.error,
        "problems": list(s.problems),
        "unchecked": list(s.unchecked),
    }


def auth_status(status: AuthStatus) -> JSON:
    """``auth status --json``."""
    return {"ok": status.ok, "pages": [_page_status(s) for s in status.pages]}


def template(name: str, variants: Sequence[str]) -> JSON:
    """One template (``templates show/add --json``; ``templates --json`` is a list of them)."""
    return {"name": name, "variants": list(variants)}


def page_row(r: PageRow) -> JSON:
    """One row of ``pages --json``."""
    return {
        "id": r.id,
        "name": r.name,
        "title": r.title,
        "configured": r.configured,
        "default": r.default,
        "token": r.token,
        "error": r.error,
        "instagram": None
        if r.instagram is None
        else {"id": r.instagram.id, "username": r.instagram.username, "source": r.instagram.source},
    }
