"""An acknowledgement plan: its types, why a thread is left out, and the plan file.

Called by ``core.ack`` (which builds and applies plans) and the ``ack`` command (``--plan FILE``
writes one, ``--apply FILE`` reads it back). A plan file is JSON: the format version, this
database's ``db_id`` and an HMAC-SHA256 signature keyed by a secret kept in this database
(``store.meta``), written 0600 atomically and ASCII only. A plan edited by hand, made against
another database or of another format is refused with the reason.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from socialdesk.errors import Reason, UsageError
from socialdesk.format import iso
from socialdesk.models import SendKind
from socialdesk.paths import MIB, atomic_write, read_bounded_text
from socialdesk.store import meta
from socialdesk.store.db import transaction

PLAN_FORMAT = 2
"""Version 2: skip reasons are :class:`SkipReason` codes (version 1 held free text)."""
PLAN_KIND = "socialdesk-ack-plan"
PLAN_MAX_BYTES = 64 * MIB
"""A plan file larger than this is not one socialdesk wrote (100k threads take ~40 MB)."""


class SkipReason(StrEnum):
    """Why a thread is not acknowledged (stable codes; :attr:`label` is the human wording)."""

    CHANNEL_UNSUPPORTED = "channel_unsupported"
    DONE = "done"
    SNOOZED = "snoozed"
    NOT_AWAITING = "not_awaiting"
    ALREADY_ACKNOWLEDGED = "already_acknowledged"
    ALREADY_ANSWERED = "already_answered"
    OUTCOME_UNKNOWN = "outcome_unknown"
    REFUSED_EARLIER = "refused_earlier"
    OUTSIDE_WINDOW = "outside_window"
    TEXT_REFUSED = "text_refused"
    GONE = "gone"
    NOW_DONE = "now_done"
    CHANGED = "changed"
    WINDOW_CLOSED = "window_closed"
    NOT_ATTEMPTED = "not_attempted"

    @property
    def label(self) -> str:
        """A few words for people (plan listings, summaries)."""
        return _LABELS[self]


_LABELS: dict[SkipReason, str] = {
    SkipReason.CHANNEL_UNSUPPORTED: "channel not supported yet",
    SkipReason.DONE: "done",
    SkipReason.SNOOZED: "snoozed",
    SkipReason.NOT_AWAITING: "not awaiting a reply",
    SkipReason.ALREADY_ACKNOWLEDGED: "already acknowledged",
    SkipReason.ALREADY_ANSWERED: "already answered",
    SkipReason.OUTCOME_UNKNOWN: "an earlier send's outcome is unknown (see `socialdesk outbox`)",
    SkipReason.REFUSED_EARLIER: "refused by the API earlier (see `socialdesk outbox`)",
    SkipReason.OUTSIDE_WINDOW: "outside the 24-hour window",
    SkipReason.TEXT_REFUSED: "reply refused",
    SkipReason.GONE: "no longer in the database",
    SkipReason.NOW_DONE: "now done",
    SkipReason.CHANGED: "changed since planning (new message)",
    SkipReason.WINDOW_CLOSED: "window closed since planning",
    SkipReason.NOT_ATTEMPTED: "not attempted (stopped)",
}


@dataclass(frozen=True)
class PlanItem:
    """One acknowledgement to send, with the thread state it was planned against."""

    number: int
    thread_id: str
    customer_id: str
    customer_name: str
    channel: str
    kind: SendKind
    text: str
    last_message_at: int
    last_inbound_at: int | None
    status: str


@dataclass(frozen=True)
class Skipped:
    """A thread left out, and why."""

    number: int
    thread_id: str
    reason: SkipReason
    detail: str = ""
    """More words when the code needs them (the refusal's message for ``text_refused``)."""

    @property
    def text(self) -> str:
        """The reason in words, with its detail."""
        return f"{self.reason.label}: {self.detail}" if self.detail else self.reason.label


@dataclass(frozen=True)
class Plan:
    """A rendered acknowledgement run."""

    plan_id: str
    db_id: str
    page_id: str
    query: str
    template: str
    done: bool
    created_at: datetime
    items: tuple[PlanItem, ...]
    skipped: tuple[Skipped, ...] = ()


def _body(plan: Plan) -> dict[str, Any]:
    return {
        "kind": PLAN_KIND,
        "format": PLAN_FORMAT,
        "plan_id": plan.plan_id,
        "db_id": plan.db_id,
        "page_id": plan.page_id,
        "query": plan.query,
        "template": plan.template,
        "done": plan.done,
        "created_at": iso(plan.created_at),
        "items": [
            {
                "thread": it.number,
                "thread_id": it.thread_id,
                "customer_id": it.customer_id,
                "customer_name": it.customer_name,
                "channel": it.channel,
                "send_kind": str(it.kind),
                "text": it.text,
                "fingerprint": {
                    "last_message_at": it.last_message_at,
                    "last_inbound_at": it.last_inbound_at,
                    "status": it.status,
                },
            }
            for it in plan.items
        ],
        "skipped": [
            {
                "thread": s.number,
                "thread_id": s.thread_id,
                "reason": str(s.reason),
                "detail": s.detail,
            }
            for s in plan.skipped
        ],
    }


def _sign(key: bytes, body: dict[str, Any]) -> str:
    canon = json.dumps(body, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hmac.new(key, canon.encode(), hashlib.sha256).hexdigest()


def plan_document(plan: Plan, conn: sqlite3.Connection) -> dict[str, Any]:
    """The plan as written to a file: its body plus ``signature``."""
    with transaction(conn):
        key = meta.plan_key(conn)
    body = _body(plan)
    return {**body, "signature": _sign(key, body)}


def check_plan_path(path: Path) -> None:
    """:class:`UsageError` unless a plan file can be written at ``path`` (no directory is ever
    created for it)."""
    parent = Path(path).parent
    if not parent.is_dir():
        raise UsageError(
            f"cannot write the plan: the directory {str(parent)!r} does not exist",
            hint="create it first, or choose another path",
        )
    if Path(path).is_dir():
        raise UsageError(f"cannot write the plan: {str(path)!r} is a directory")


def write_plan(path: Path, plan: Plan, conn: sqlite3.Connection) -> None:
    """Write the plan file atomically, mode 0600 (it holds customers' names)."""
    check_plan_path(path)
    # ASCII-only: a plan file is meant to be read (`cat`, an editor), and customer names must
    # not carry control, bidi or line-separator characters to whoever reads it.
    data = json.dumps(plan_document(plan, conn), indent=2, ensure_ascii=True) + "\n"
    atomic_write(Path(path), data.encode(), mode=0o600)


def _invalid(message: str, hint: str | None = None) -> UsageError:
    return UsageError(message, hint=hint or "write a new plan", reason=Reason.PLAN_INVALID)


def read_plan(path: Path, conn: sqlite3.Connection) -> Plan:
    """Read and verify a plan file; :class:`UsageError` saying why it is refused."""
    try:
        raw = read_bounded_text(Path(path), PLAN_MAX_BYTES, "the plan file", error=UsageError)
    except FileNotFoundError:
        raise _invalid(f"no such plan file: {path}") from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested thousands deep
        raise _invalid("the plan file is not valid JSON") from exc
    if not isinstance(data, dict) or data.get("kind") != PLAN_KIND:
        raise _invalid("this is not a socialdesk ack plan")
    if data.get("format") != PLAN_FORMAT:
        raise _invalid(
            f"unsupported plan format {data.get('format')!r} (expected {PLAN_FORMAT})",
            "make a new plan with this version of socialdesk",
        )
    with transaction(conn):
        ident = meta.db_id(conn)
        key = meta.plan_key(conn)
    if data.get("db_id") != ident:
        raise UsageError(
            "the plan was made against another database",
            hint="make the plan with the same SOCIALDESK_HOME you apply it with",
            reason=Reason.PLAN_OTHER_DATABASE,
        )
    signature = data.pop("signature", None)
    if not isinstance(signature, str) or not hmac.compare_digest(signature, _sign(key, data)):
        raise UsageError(
            "the plan file was changed after it was written (checksum mismatch)",
            hint="make a new plan; edit the template, not the plan",
            reason=Reason.PLAN_CHANGED,
        )
    try:
        return Plan(
            plan_id=str(data["plan_id"]),
            db_id=str(data["db_id"]),
            page_id=str(data["page_id"]),
            query=str(data["query"]),
            template=str(data["template"]),
            done=bool(data["done"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            items=tuple(
                PlanItem(
                    number=int(it["thread"]),
                    thread_id=str(it["thread_id"]),
                    customer_id=str(it["customer_id"]),
                    customer_name=str(it["customer_name"]),
                    channel=str(it["channel"]),
                    kind=SendKind(it["send_kind"]),
                    text=str(it["text"]),
                    last_message_at=int(it["fingerprint"]["last_message_at"]),
                    last_inbound_at=it["fingerprint"]["last_inbound_at"],
                    status=str(it["fingerprint"]["status"]),
                )
                for it in data["items"]
            ),
            skipped=tuple(
                Skipped(
                    int(s["thread"]),
                    str(s["thread_id"]),
                    SkipReason(s["reason"]),
                    str(s.get("detail", "")),
                )
                for s in data["skipped"]
            ),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _invalid(f"the plan file is incomplete ({exc})") from exc
