"""``doctor --probe``: ask a live Page the questions only a live token can settle (reads only).

The fidelity audit (research/GRAPH_FIDELITY.md §5) lists twelve things no document or capture
settles; socialdesk assumes an answer to each (docs/GRAPH_API.md "Client decisions"). Each
function here asks one of them with GET requests only (``debug_token`` is a GET sent as a POST
with ``method=GET``), never a send, a hide or any other write, and returns a
:class:`ProbeResult`: ``as_assumed``, ``differs`` (socialdesk's assumption is wrong for this
Page: report it), ``inconclusive`` (the Page lacks the data to tell, e.g. no long thread), or
``not_checked`` (only a write could tell: the README says how to check by hand). Probes never
raise for a Graph error except an invalid token; a failing probe is ``error`` with Graph's
message. Called by ``core/health`` (``doctor --probe``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from socialdesk.api import graph
from socialdesk.api.client import GraphClient, parse_usage
from socialdesk.api.errors import GraphError, TokenInvalid
from socialdesk.api.paging import param_value, segments
from socialdesk.api.parse import parse_time
from socialdesk.api.tokens import client_token

__all__ = ["PROBES", "ProbeResult", "ProbeStatus", "run_probes"]


class ProbeStatus(StrEnum):
    AS_ASSUMED = "as_assumed"
    DIFFERS = "differs"
    INCONCLUSIVE = "inconclusive"
    NOT_CHECKED = "not_checked"
    ERROR = "error"


@dataclass(frozen=True)
class ProbeResult:
    """The answer a live Page gave to one question."""

    number: int
    """The question's number in research/GRAPH_FIDELITY.md §5 and the README section."""
    question: str
    assumption: str
    """What socialdesk assumes."""
    status: ProbeStatus
    found: str
    """What the probe saw, in one or two sentences."""


@dataclass(frozen=True)
class _Question:
    number: int
    question: str
    assumption: str
    ask: Callable[[GraphClient, str, datetime], tuple[ProbeStatus, str]] | None
    manual: str = ""
    """For write-only questions: how to check by hand."""


def _conv_fields(client: GraphClient, page_id: str, now: datetime) -> tuple[ProbeStatus, str]:
    body = client.get(
        f"/{page_id}/conversations",
        {"platform": "messenger", "limit": "1", "fields": graph.CONVERSATION_FIELDS},
        edge="probe",
    )
    got = len(body.get("data") or [])
    many = client.get(
        f"/{page_id}/conversations",
        {"platform": "messenger", "limit": "500", "fields": "id"},
        edge="probe",
    )
    n = len(many.get("data") or [])
    has_next = bool((many.get("paging") or {}).get("next"))
    cap = f"limit=500 gave {n} conversations" + (" and a next link" if has_next else "")
    return ProbeStatus.AS_ASSUMED, (
        f"the full field list works on {client.version} ({got} conversation read); {cap}"
        + (f": the real page size cap looks like {n}" if has_next and n < 500 else "")
    )


def _folders(client: GraphClient, page_id: str, now: datetime) -> tuple[ProbeStatus, str]:
    found: list[str] = []
    for folder in ("inbox", "other", "spam", "page_done"):
        try:
            body = client.get(
                f"/{page_id}/conversations",
                {"platform": "messenger", "folder": folder, "limit": "25", "fields": "id"},
                edge="probe",
            )
            found.append(f"{folder}: {len(body.get('data') or [])}+")
        except TokenInvalid:
            raise
        except GraphError as exc:
            found.append(f"{folder}: refused ({exc.code})")
    default = client.get(
        f"/{page_id}/conversations",
        {"platform": "messenger", "limit": "25", "fields": "id"},
        edge="probe",
    )
    listed = {str(c.get("id")) for c in default.get("data") or [] if isinstance(c, Mapping)}
    spam = client.get(
        f"/{page_id}/conversations",
        {"platform": "messenger", "folder": "spam", "limit": "25", "fields": "id"},
        edge="probe",
    )
    spam_ids = {str(c.get("id")) for c in spam.get("data") or [] if isinstance(c, Mapping)}
    detail = "; ".join(found)
    if spam_ids & listed:
        return ProbeStatus.DIFFERS, f"the default listing includes spam threads ({detail})"
    if not spam_ids:
        return ProbeStatus.INCONCLUSIVE, f"no spam thread to compare ({detail})"
    return ProbeStatus.AS_ASSUMED, f"spam threads are not in the default listing ({detail})"


def _ranked(client: GraphClient, page_id: str, now: datetime) -> tuple[ProbeStatus, str]:
    body = client.get(
        f"/{page_id}/feed",
        {
            "limit": "25",
            "fields": "id,comments.filter(stream).order(reverse_chronological).limit(25)"
            ".summary(true){id,created_time}",
        },
        edge="probe",
    )
    checked = 0
    out_of_order = 0
    orders: set[str] = set()
    for post in body.get("data") or []:
        comments = post.get("comments") if isinstance(post, Mapping) else None
        if not isinstance(comments, Mapping):
            continue
        summary = comments.get("summary")
        if isinstance(summary, Mapping) and isinstance(summary.get("order"), str):
            orders.add(summary["order"])
        times = [parse_time(c.get("created_time")) for c in comments.get("data") or []]
        stamps = [t for t in times if t is not None]
        if len(stamps) < 2:
            continue
        checked += 1
        if any(a < b for a, b in itertools.pairwise(stamps)):
            out_of_order += 1
    said = f" (summary.order: {', '.join(sorted(orders))})" if orders else ""
    if not checked:
        return ProbeStatus.INCONCLUSIVE, "no recent post with two comments or more" + said
    if out_of_order:
        return ProbeStatus.AS_ASSUMED, (
            f"{out_of_order} of {checked} posts came back ranked, not newest first{said}:"
            " socialdesk pages them by their count, as it assumes"
        )
    return ProbeStatus.AS_ASSUMED, (
        f"all {checked} posts came back newest first{said}; socialdesk does not rely on it"
    )


def _since(client: GraphClient, page_id: str, now: datetime) -> tuple[ProbeStatus, str]:
    since = now - timedelta(days=7)
    body = client.get(
        f"/{page_id}/feed",
        {"since": str(int(since.timestamp())), "limit": "5", "fields": "id,created_time"},
        edge="probe",
    )
    created = [parse_time(p.get("created_time")) for p in body.get("data") or []]
    older = [t for t in created if t is not None and t < since]
    link = (body.get("paging") or {}).get("next")
    shape = "no next link"
    if isinstance(link, str):
        query = segments(link.split("?", 1)[1]) if "?" in link else []
        bare = [s for s in query if "=" not in s]
        kept = param_value(query, "since")
        shape = f"next link bare keys: {', '.join(bare) or 'none'}; since in it: {kept!r}"
        client.get_url(link, edge="probe")  # accepted as written (bare keys kept)
    if older:
        return ProbeStatus.DIFFERS, (
            f"{len(older)} posts created before since came back: since filters on"
            f" updated_time here ({shape})"
        )
    if not created:
        return ProbeStatus.INCONCLUSIVE, f"no post in the last 7 days ({shape})"
    return ProbeStatus.AS_ASSUMED, f"since filtered on created_time ({shape})"


def _debug_token(client: GraphClient, page_id: str, now: datetime) -> tuple[ProbeStatus, str]:
    try:
        info = graph.debug_token(client, client_token(client))
    except TokenInvalid:
        raise
    except GraphError as exc:
        return ProbeStatus.AS_ASSUMED, f"refused with the Page token: {exc.message}"
    return ProbeStatus.DIFFERS, (
        f"answered with the Page token (type {info.type or '?'}): this token's person has a"
        " role on the app"
    )


def _buc(client: GraphClient, page_id: str, now: datetime) -> tuple[ProbeStatus, str]:
    _, headers = client.get_raw(
        f"/{page_id}/conversations",
        {"platform": "messenger", "limit": "1", "fields": "id"},
        edge="probe",
    )
    usage = parse_usage(headers)
    if usage is None or not usage.by_type:
        return ProbeStatus.INCONCLUSIVE, "no X-Business-Use-Case-Usage header on this read"
    types = ", ".join(f"{k} {v} %" for k, v in usage.by_type)
    if usage.of_type("messenger") is None:
        return ProbeStatus.DIFFERS, f"conversation reads reported under: {types}"
    return ProbeStatus.AS_ASSUMED, f"conversation reads reported under: {types}"


def _shares(client: GraphClient, page_id: str, now: datetime) -> tuple[ProbeStatus, str]:
    def read(fields: str) -> list[Mapping[str, Any]]:
        body = client.get(
            f"/{page_id}/conversations",
            {"platform": "messenger", "limit": "25", "fields": f"messages.limit(25){{{fields}}}"},
            edge="probe",
        )
        shares: list[Mapping[str, Any]] = []
        for conv in body.get("data") or []:
            for msg in ((conv.get("messages") or {}).get("data")) or []:
                for share in ((msg.get("shares") or {}).get("data")) or []:
                    if isinstance(share, Mapping):
                        shares.append(share)
        return shares

    bare = read("id,shares")
    if not bare:
        return ProbeStatus.INCONCLUSIVE, "no shared link in the 25 newest conversations"
    if all(set(s) <= {"id"} for s in bare):
        return ProbeStatus.AS_ASSUMED, "without sub-fields shares came back as ids only"
    return ProbeStatus.DIFFERS, "shares came back in full without sub-fields"


def _hidden(client: GraphClient, page_id: str, now: datetime) -> tuple[ProbeStatus, str]:
    body = client.get(
        f"/{page_id}/feed",
        {"limit": "25", "fields": "id,comments.filter(stream).limit(50){id,is_hidden}"},
        edge="probe",
    )
    hidden = sum(
        1
        for post in body.get("data") or []
        for c in ((post.get("comments") or {}).get("data")) or []
        if isinstance(c, Mapping) and c.get("is_hidden") is True
    )
    if hidden:
        return ProbeStatus.AS_ASSUMED, f"{hidden} hidden comments came back with is_hidden: true"
    return ProbeStatus.INCONCLUSIVE, "no hidden comment among the 25 newest posts"


def _twenty(client: GraphClient, page_id: str, now: datetime) -> tuple[ProbeStatus, str]:
    body = client.get(
        f"/{page_id}/conversations",
        {"platform": "messenger", "limit": "25", "fields": "id,message_count"},
        edge="probe",
    )
    long = [
        c
        for c in body.get("data") or []
        if isinstance(c, Mapping)
        and isinstance(c.get("message_count"), int)
        and c["message_count"] > 25
    ]
    if not long:
        return ProbeStatus.INCONCLUSIVE, "no conversation with more than 25 messages"
    msgs = client.get(
        f"/{long[0]['id']}/messages",
        {"limit": "30", "fields": "id,created_time,message"},
        edge="probe",
    )
    items = [m for m in msgs.get("data") or [] if isinstance(m, Mapping)]
    beyond = items[20:]
    if not beyond:
        return ProbeStatus.INCONCLUSIVE, f"only {len(items)} messages came back"
    if all("created_time" in m for m in beyond):
        return ProbeStatus.AS_ASSUMED, f"messages 21-{len(items)} came back with their details"
    return ProbeStatus.DIFFERS, "messages past the 20th came back without details"


# ---- Instagram (docs/INSTAGRAM_API.md §12; numbered 100 + the question's number there) -----


def _ig_account(client: GraphClient, page_id: str) -> str | None:
    from socialdesk.api import graph_ig

    account = graph_ig.get_instagram_account(client, page_id)
    return None if account is None else account.id


NO_IG = "no Instagram account is linked to the Page"


def _ig_nested(client: GraphClient, page_id: str, now: datetime) -> tuple[ProbeStatus, str]:
    if _ig_account(client, page_id) is None:
        return ProbeStatus.INCONCLUSIVE, NO_IG
    try:
        body = client.get(
            f"/{page_id}/conversations",
            {"platform": "instagram", "limit": "3",
             "fields": "id,messages.limit(25){id,created_time,message}"},
            edge="probe",
        )  # fmt: skip
    except GraphError as exc:
        return ProbeStatus.DIFFERS, f"the whole call failed: {exc.message}"
    for conv in body.get("data") or []:
        items = [m for m in ((conv.get("messages") or {}).get("data")) or [] if isinstance(m, dict)]
        if len(items) > 20:
            bare = sum(1 for m in items[20:] if "created_time" not in m)
            if bare:
                return ProbeStatus.AS_ASSUMED, f"messages 21-{len(items)}: {bare} without details"
            return ProbeStatus.DIFFERS, f"messages 21-{len(items)} came back with details"
        if len(items) == 20:
            return ProbeStatus.DIFFERS, "silently capped at 20 (socialdesk asks for 20 anyway)"
    return ProbeStatus.INCONCLUSIVE, "no Instagram thread with more than 20 messages"


def _ig_fields(client: GraphClient, page_id: str, now: datetime) -> tuple[ProbeStatus, str]:
    if _ig_account(client, page_id) is None:
        return ProbeStatus.INCONCLUSIVE, NO_IG
    try:
        client.get(
            f"/{page_id}/conversations",
            {"platform": "instagram", "limit": "1", "fields": "id,message_count"},
            edge="probe",
        )
    except GraphError as exc:
        return ProbeStatus.AS_ASSUMED, f"message_count refused: {exc.message}"
    return ProbeStatus.DIFFERS, "message_count accepted on Instagram threads"


def _ig_buc(client: GraphClient, page_id: str, now: datetime) -> tuple[ProbeStatus, str]:
    ig = _ig_account(client, page_id)
    if ig is None:
        return ProbeStatus.INCONCLUSIVE, NO_IG
    _, headers = client.get_raw(
        f"/{page_id}/conversations",
        {"platform": "instagram", "limit": "1", "fields": "id"},
        edge="probe",
    )
    usage = parse_usage(headers)
    raw = headers.get("x-business-use-case-usage") or ""
    if usage is None or not usage.by_type:
        return ProbeStatus.INCONCLUSIVE, "no X-Business-Use-Case-Usage header on this read"
    types = ", ".join(f"{k} {v} %" for k, v in usage.by_type)
    keyed = "the IG id" if ig in raw else "the Page id" if page_id in raw else "another id"
    if usage.of_type("messenger") is None:
        return ProbeStatus.DIFFERS, f"Instagram DM reads reported under {types}, keyed by {keyed}"
    return ProbeStatus.AS_ASSUMED, f"Instagram DM reads reported under {types}, keyed by {keyed}"


def _ig_divergence(client: GraphClient, page_id: str, now: datetime) -> tuple[ProbeStatus, str]:
    from socialdesk.api import graph_ig

    account = graph_ig.get_instagram_account(client, page_id)
    if account is None:
        return ProbeStatus.INCONCLUSIVE, NO_IG
    if account.other_id or account.source != "instagram_business_account":
        return ProbeStatus.DIFFERS, (
            f"the Page fields disagree (using {account.source} {account.id}"
            f"{', other ' + account.other_id if account.other_id else ''})"
        )
    return ProbeStatus.AS_ASSUMED, "both Page fields name the same account"


PROBES: tuple[_Question, ...] = (
    _Question(
        1,
        "Do the conversations fields (is_unsupported, tags, sticker, shares) work, and what is"
        " the largest page?",
        "every field of the conversations call is valid; 100 per page is allowed",
        _conv_fields,
    ),
    _Question(
        2,
        "Does the default conversations listing include the spam, other and Done folders?",
        "no: socialdesk reads `other` every round and `spam` and `page_done` daily",
        _folders,
    ),
    _Question(
        3,
        "Are comments on a popular post returned newest first or ranked?",
        "ranked is possible: a post's comments are paged by their total count",
        _ranked,
    ),
    _Question(
        4,
        "Does /feed?since= filter on created_time, and are its next links usable as written?",
        "created_time; next links are followed with their bare keys kept",
        _since,
    ),
    _Question(
        5,
        "Is the Send API message_id the id /{conversation}/messages later returns?",
        "yes (the outbox reconciles by id, then by text and time)",
        None,
        "send yourself a message from the Page (`socialdesk reply`) and compare the outbox"
        " entry's message id (`socialdesk outbox --json`) with the id `show --json` lists",
    ),
    _Question(
        6,
        "What exactly do a second private reply, a private reply to the Page's own comment, a"
        " late one, HUMAN_AGENT without approval and a send to a blocker answer?",
        "10900 / 10903 / 10-2018278 / 200 / 551 or bare 200 (docs/GRAPH_API.md §20.5-§20.7)",
        None,
        "only sends can tell: try each on a test Page with `socialdesk reply --json` and compare"
        " the error codes with docs/GRAPH_API.md",
    ),
    _Question(
        7,
        "Does debug_token work with a Page token whose person is an app developer?",
        "no for people without a role on the app: socialdesk uses an app token when given",
        _debug_token,
    ),
    _Question(
        8,
        "Which X-Business-Use-Case-Usage types do conversation reads count against?",
        "messenger (200 x engaged users per 24 h)",
        _buc,
    ),
    _Question(
        9,
        "Is the 2,000-character Messenger limit counted in code points or UTF-16 units?",
        "code points",
        None,
        "send a 2,000-character text of emoji to yourself: a refusal (100) means UTF-16 units",
    ),
    _Question(
        10,
        "Is shares without sub-fields returned as ids only?",
        "possibly: socialdesk always asks for shares{link,name,description,picture}",
        _shares,
    ),
    _Question(
        11,
        "Are hidden comments returned to the Page token, with is_hidden: true?",
        "yes",
        _hidden,
    ),
    _Question(
        12,
        "Does the 20-most-recent-messages detail limit apply to Messenger too?",
        "no (Instagram only)",
        _twenty,
    ),
    _Question(
        101,
        "Instagram: what does a nested messages.limit(25) return past the 20th message?",
        "items without details (socialdesk never asks for more than 20)",
        _ig_nested,
    ),
    _Question(
        102,
        "Instagram: are Messenger-only thread fields (message_count) refused?",
        "yes, the whole call fails with (#100)",
        _ig_fields,
    ),
    _Question(
        109,
        "Instagram: which usage header type and key do DM reads report?",
        "the Page's messenger budget (socialdesk paces Instagram DMs in a lane of their own)",
        _ig_buc,
    ),
    _Question(
        114,
        "Instagram: do instagram_business_account and connected_instagram_account agree?",
        "yes; socialdesk uses instagram_business_account and warns otherwise",
        _ig_divergence,
    ),
)


def run_probes(
    client: GraphClient, page_id: str, *, now: datetime, numbers: set[int] | None = None
) -> list[ProbeResult]:
    """Ask each question (or those in ``numbers``); reads only. TokenInvalid propagates."""
    results: list[ProbeResult] = []
    for q in PROBES:
        if numbers is not None and q.number not in numbers:
            continue
        if q.ask is None:
            results.append(
                ProbeResult(q.number, q.question, q.assumption, ProbeStatus.NOT_CHECKED, q.manual)
            )
            continue
        try:
            status, found = q.ask(client, page_id, now)
        except TokenInvalid:
            raise
        except GraphError as exc:
            status, found = ProbeStatus.ERROR, exc.message
        results.append(ProbeResult(q.number, q.question, q.assumption, status, found))
    return results
