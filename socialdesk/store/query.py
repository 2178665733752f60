"""The query language of ``list``, ``ack``, saved views and the inbox's search box.

Called by ``store.threads`` (listing) and ``core.ack`` (selection). PRODUCT.md §3 defines the
language; this module is its reference. A query is a sequence of terms:

=====================  =========================================================================
``is:dm`` ``is:comment``  channel: Messenger, Page comments
``is:ig_dm``           an Instagram DM thread of the linked account; ``is:ig_comment``: an
                       Instagram comment thread; ``is:ig`` (or ``is:instagram``): either;
                       ``is:facebook``: the Page's own channels (``dm`` or ``comment``)
``is:gap``             an Instagram thread that got more than 20 messages between two syncs:
                       some of them could not be read (Instagram shows only the 20 newest)
``is:open``            status open (a snooze that has run out counts as open)
``is:done``            status done
``is:snoozed``         snoozed until a time still in the future
``is:awaiting``        the newest message is from the customer
``is:unanswered``      no person has replied since the customer's newest message: automated
                       replies (outbox rows of origin ``rule`` or ``ack``) do not count
``is:hidden``          a comment hidden on Facebook
``tag:NAME``           tagged NAME (case-insensitive)
``from:NAME``          the thread's customer: exact id, or a substring of the name (ASCII
                       case-insensitive)
``older:2h``           waiting since more than 2 h: ``request_at`` (first unanswered inbound
                       message), else ``last_message_at``, is before ``now - 2h``
``newer:3d``           the same reference time is within the last 3 days
``expires:<2h``        the reply window that applies closes within 2 h (``expires:>2h``: closes
                       later than that); threads without an open window never match
``page:NAME``          page id, or page name (case-insensitive) as recorded in ``pages``
``said:WORD``          a *customer* message of the current request (inbound, after the last
                       human reply) contains the word or ``said:"a phrase"`` (FTS5, like free
                       words): never the Page's own messages, never an earlier request's
``rule:NAME``          a rule (``core.rules``) acted on the thread (a ``fired`` ledger row)
``view:NAME``          the saved query ``[views] NAME`` of the config (:func:`expand_views`)
``word``, ``"a phrase"``  message text, through the FTS5 index ``messages_fts``: the thread has a
                       message containing the word or the exact phrase (diacritics and case
                       ignored). Text without letters or digits (``*``, ``"``) is matched as a
                       plain substring instead.
=====================  =========================================================================

Durations are a number and a unit, repeated: ``s`` ``m`` ``h`` ``d`` ``w`` (``90m``, ``1h30m``).

``-`` before a term (or a parenthesis) negates it, and so does ``NOT`` (upper case) before a
term or group. Terms side by side are ANDed; ``OR`` (upper case) between two terms makes them
alternatives and binds tighter than the implicit AND (as in Gmail): ``is:dm tag:a OR tag:b``
means ``is:dm AND (tag:a OR tag:b)``. Parentheses group: ``(is:dm tag:a) OR NOT (tag:b
older:1d)``; a ``(`` that starts a term and a ``)`` that ends one are parentheses, elsewhere
they are text. A filter value with spaces is quoted: ``from:"Ann Lee"``. Text that looks like a
filter (``re:hello``) or an operator must be quoted to search it as text. ``page:NAME`` naming
no stored page is an error.

**Reply windows** (GRAPH_API.md §4.3, §5.4), as ``expires:`` and the ``expires`` sort see them:
the rule of :func:`socialdesk.core.windows.window_for_conn` (what ``list``/``show`` display and
sends obey) in SQL, with the durations of :mod:`socialdesk.models`. ``L`` is
``last_inbound_at`` (the customer's newest message or comment):

- DM: the standard window closes at ``L + 24h``; once it has closed and ``human_agent`` is on,
  the HUMAN_AGENT window closes at ``L + 7d``; otherwise there is no open window.
- comment: public replies never close, so the window that can *expire* is the private reply's.
  A private reply answers one comment, by default the thread's newest customer comment (whose
  time is ``L``): the window closes at ``L + 7d``. Once that comment's private reply is used
  (an outbox row answering it that is queued, sending, sent, unknown or refused by the
  platform, or Graph's ``private_reply_conversation`` on it) the thread is public only: no
  window.
- a thread with no inbound message has no window.

Tests compare :data:`CLOSES_SQL` with ``window_for_conn`` thread by thread. Every value the user
typed reaches SQLite only as a bound parameter; free text reaches FTS5 only as a double-quoted
string, so it can never carry FTS5 syntax (``NEAR``, ``AND``, ``*``, column filters).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from socialdesk.errors import UsageError
from socialdesk.models import (
    HUMAN_AGENT_WINDOW,
    PRIVATE_REPLY_WINDOW,
    STANDARD_WINDOW,
)
from socialdesk.store.outbox import ledger_condition

DEFAULT_QUERY = "is:open is:awaiting"
"""What ``list`` shows when no query is given."""

FILTERS = ("is", "tag", "from", "older", "newer", "expires", "page", "said", "rule")
IS_VALUES = (
    "dm",
    "comment",
    "ig_dm",
    "ig_comment",
    "ig",
    "instagram",
    "facebook",
    "gap",
    "open",
    "done",
    "snoozed",
    "awaiting",
    "hidden",
    "unanswered",
)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(?:\d+[smhdw])+")
_DURATION_PART = re.compile(r"(\d+)([smhdw])")
_FILTER = re.compile(r"([A-Za-z_]+):(.*)", re.DOTALL)
_KEY = re.compile(r"[A-Za-z_]+")
_TOKEN_CHAR = re.compile(r"[^\W_]")  # what FTS5's unicode61 tokenizer keeps: letters, digits


TextPlan = Literal["in", "probe", "set"]
"""How a text term is evaluated; every plan selects exactly the same threads.

- ``in``: the set of thread ids of every FTS match (one ``messages`` lookup per match); cheap
  when the term is rare.
- ``probe``: per thread, its messages (index ``messages_thread_created``) each checked against
  the FTS index by rowid; cheap when the caller walks threads in an index order and stops after
  ``LIMIT`` rows, whatever the term's frequency; ruinous over every thread.
- ``set``: per thread, its messages' rowids checked against the FTS matches materialised once as
  a rowid set (no ``messages`` lookup per match); the cheaper plan for a common term when every
  candidate thread must be visited (a sort no index gives).
"""


@dataclass(frozen=True)
class Term:
    """One term of a query, with where it was typed (for error carets)."""

    kind: str
    """``filter``, ``word`` or ``phrase``."""
    value: str
    key: str = ""
    """The filter name for ``filter`` terms."""
    negated: bool = False
    start: int = 0
    """0-based offset of the term (its ``-`` included) in the query text."""
    end: int = 0


@dataclass(frozen=True)
class Not:
    """``NOT x`` (or ``-( … )``): the child does not hold."""

    child: Node


@dataclass(frozen=True)
class And:
    """Every child holds (terms side by side)."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """At least one child holds (``a OR b``)."""

    children: tuple[Node, ...]


Node = Term | Not | And | Or
"""A node of a parsed query."""


@dataclass(frozen=True)
class Query:
    """A parsed query: a tree of terms (``root`` is ``None`` for the empty query: everything)."""

    text: str
    root: Node | None

    def terms(self) -> list[Term]:
        """Every term of the query, in the order typed."""
        out: list[Term] = []

        def walk(node: Node) -> None:
            if isinstance(node, Term):
                out.append(node)
            elif isinstance(node, Not):
                walk(node.child)
            else:
                for child in node.children:
                    walk(child)

        if self.root is not None:
            walk(self.root)
        return out

    def matches(self, test: Callable[[Term], bool]) -> bool:
        """Evaluate the query with ``test`` deciding each (non-negated) term: for references."""

        def ev(node: Node) -> bool:
            if isinstance(node, Term):
                return test(node) != node.negated
            if isinstance(node, Not):
                return not ev(node.child)
            if isinstance(node, And):
                return all(ev(c) for c in node.children)
            return any(ev(c) for c in node.children)

        return True if self.root is None else ev(self.root)


@dataclass(frozen=True)
class CompiledQuery:
    """A SQL boolean expression over ``threads t JOIN thread_state s`` and its named parameters.

    Parameter names start with the compile prefix (``q`` by default) so the caller can add its
    own without clashes.
    """

    where: str
    params: dict[str, Any] = field(default_factory=dict)


_DM_S = int(STANDARD_WINDOW.total_seconds())
_AGENT_S = int(HUMAN_AGENT_WINDOW.total_seconds())
_PRIVATE_S = int(PRIVATE_REPLY_WINDOW.total_seconds())

AUTOMATED_ORIGINS = ("rule", "ack")
"""Outbox origins whose messages are automated: they answer no one in ``is:unanswered``."""
_AUTO = ", ".join(f"'{o}'" for o in AUTOMATED_ORIGINS)


def human_out_sql(alias: str) -> str:
    """SQL: message ``alias`` is one a person sent (outbound, claimed by no automated row)."""
    return (
        f"{alias}.direction = 'out' AND NOT EXISTS (SELECT 1 FROM outbox o"
        f" WHERE o.message_id = {alias}.id AND o.origin IN ({_AUTO}))"
    )


LAST_HUMAN_OUT_SQL = (
    f"(SELECT max(h.created_at) FROM messages h WHERE h.thread_id = t.id AND {human_out_sql('h')})"
)
"""When a person last replied in thread ``t`` (NULL: never)."""
UNANSWERED_SQL = (
    "t.last_inbound_at IS NOT NULL AND (t.awaiting_reply = 1 OR NOT EXISTS (SELECT 1"
    f" FROM messages m WHERE m.thread_id = t.id AND m.created_at >= t.last_inbound_at"
    f" AND {human_out_sql('m')}))"
)
"""``is:unanswered``: the customer wrote and no person replied at or after their newest message
(a same-second reply counts as an answer: automation errs on the side of silence)."""

# Comment branch (a private reply answers the thread's newest customer comment by default, and
# that comment's 7 days and once-only rule decide the window; core.windows.window_for_conn):
# - last_inbound_at IS the newest customer comment's time (derived from the messages), so an
#   old one settles it without reading messages or outbox (most comment threads);
# - the newest customer comment is used when the outbox ledger (store.outbox.ledger_condition) or
#   Graph's private_reply_conversation says so. A cheap probe comes first (a ledger row of the
#   thread, by outbox_thread; a comment of the thread carrying a conversation, by the partial
#   index messages_private_replied), and only when it finds something (AND short-circuits) is the
#   newest customer comment looked up as core finds it (newest first, ties by id): the
#   common case costs two index probes.
_NEWEST_CUSTOMER_COMMENT = (
    "SELECT m2.id FROM messages m2 WHERE m2.thread_id = t.id AND m2.direction = 'in'"
    " ORDER BY m2.created_at DESC, m2.id DESC LIMIT 1"
)
CLOSES_SQL = f"""(CASE
    WHEN t.last_inbound_at IS NULL THEN NULL
    WHEN t.channel IN ('dm', 'ig_dm') THEN CASE
        WHEN t.last_inbound_at + {_DM_S} > :qnow THEN t.last_inbound_at + {_DM_S}
        WHEN :qha AND t.last_inbound_at + {_AGENT_S} > :qnow
            THEN t.last_inbound_at + {_AGENT_S}
        END
    WHEN t.last_inbound_at + {_PRIVATE_S} <= :qnow THEN NULL
    WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.thread_id = t.id AND {ledger_condition("o.")})
         AND EXISTS (SELECT 1 FROM outbox o WHERE o.comment_id = ({_NEWEST_CUSTOMER_COMMENT})
                     AND {ledger_condition("o.")})
        THEN NULL
    WHEN EXISTS (SELECT 1 FROM messages m WHERE m.thread_id = t.id
                 AND m.private_reply_conversation IS NOT NULL)
         AND (SELECT m.private_reply_conversation FROM messages m
              WHERE m.id = ({_NEWEST_CUSTOMER_COMMENT})) IS NOT NULL
        THEN NULL
    ELSE t.last_inbound_at + {_PRIVATE_S}
END)"""
"""Unix time the applicable window closes, or NULL; needs the ``qnow`` and ``qha`` parameters."""


class QueryError(UsageError):
    """A bad query: the message names the term and its position; ``start``/``end`` span it.

    The hint stays one line (the CLI prints errors as single lines); a UI that can draw a caret
    under the query (the inbox's search box) uses ``query``, ``start`` and ``end``.
    """

    def __init__(self, message: str, hint: str, *, query: str, start: int, end: int) -> None:
        super().__init__(message, hint=hint)
        self.query = query
        self.start = start
        self.end = end


SYNTAX_HINT = (
    "queries: is:dm|comment|open|done|snoozed|awaiting|unanswered, tag:NAME, from:NAME, "
    'older:2h, newer:3d, expires:<2h, page:NAME, said:WORD, rule:NAME, words, "quoted phrases", '
    "-term or NOT term negates, a OR b, (grouping)"
)
"""The one-line summary of the language shown when an error has nothing more specific."""


def _error(text: str, start: int, end: int, message: str, extra: str = "") -> QueryError:
    return QueryError(
        f"{message} at position {start + 1}",
        hint=extra or SYNTAX_HINT,
        query=text,
        start=start,
        end=max(end, start + 1),
    )


def parse_duration(value: str) -> int:
    """Seconds in a duration like ``90m`` or ``1h30m``; ``ValueError`` when malformed."""
    if not _DURATION.fullmatch(value):
        raise ValueError(value)
    return sum(int(n) * _UNITS[u] for n, u in _DURATION_PART.findall(value))


@dataclass(frozen=True)
class _Token:
    text: str
    negated: bool
    quoted: bool
    """The whole token was a "quoted phrase"."""
    start: int
    end: int
    value_quoted: bool = False
    """A ``key:"quoted value"`` filter: ``text`` is ``key:value`` without the quotes."""
    paren: str = ""
    """``(`` or ``)`` for a parenthesis (``negated`` for ``-(``)."""

    @property
    def keyword(self) -> str:
        """``OR``/``NOT`` when the token is that operator, else ``""``."""
        if self.text in ("OR", "NOT") and not self.quoted and not self.negated and not self.paren:
            return self.text
        return ""


def _tokens(text: str) -> list[_Token]:
    """Split a query into tokens; ``key:"quoted value"`` stays one token.

    A ``(`` that starts a token and the ``)`` that end one are parentheses; anywhere else they
    are text (quote a phrase to search for ``:)``).
    """
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        negated = False
        if text[i] == "-":
            negated = True
            i += 1
            if i >= n or text[i].isspace():
                raise _error(text, start, start + 1, "nothing to negate after '-'")
        if text[i] == "(":
            out.append(_Token("(", negated, False, start, i + 1, paren="("))
            i += 1
            continue
        if text[i] == '"':
            close = text.find('"', i + 1)
            if close < 0:
                raise _error(text, i, n, "unterminated quote")
            out.append(_Token(text[i + 1 : close], negated, True, start, close + 1))
            i = close + 1
            continue
        if text[i] == ")" and not negated:
            out.append(_Token(")", False, False, i, i + 1, paren=")"))
            i += 1
            continue
        j = i
        token: _Token | None = None
        while j < n and not text[j].isspace():
            if text[j] == '"' and j > i and text[j - 1] == ":" and _KEY.fullmatch(text[i : j - 1]):
                close = text.find('"', j + 1)
                if close < 0:
                    raise _error(text, j, n, "unterminated quote")
                raw = text[i:j] + text[j + 1 : close]
                token = _Token(raw, negated, False, start, close + 1, value_quoted=True)
                j = close + 1
                break
            j += 1
        if token is None:
            word_end = j
            while word_end > i + 1 and text[word_end - 1] == ")":
                word_end -= 1
            token = _Token(text[i:word_end], negated, False, start, word_end)
        out.append(token)
        out.extend(_Token(")", False, False, k, k + 1, paren=")") for k in range(token.end, j))
        i = j
    return out


def _term(text: str, tok: _Token) -> Term:
    negated, start, end = tok.negated, tok.start, tok.end
    if tok.quoted:
        return Term("phrase", tok.text, negated=negated, start=start, end=end)
    m = _FILTER.fullmatch(tok.text)
    if m is None:
        return Term("word", tok.text, negated=negated, start=start, end=end)
    key = m.group(1).lower()
    value = m.group(2)
    shown = f'{m.group(1)}:"{value}"' if tok.value_quoted else tok.text
    if key not in FILTERS:
        raise _error(
            text,
            start,
            end,
            f"unknown filter '{shown}'",
            f"filters: {', '.join(f + ':' for f in FILTERS)}; "
            f'to search for this text, quote it: "{tok.text}"',
        )
    if not value:
        raise _error(text, start, end, f"'{key}:' needs a value")
    if key == "is":
        value = value.lower()
        if value not in IS_VALUES:
            raise _error(
                text,
                start,
                end,
                f"unknown filter '{shown}'",
                "is: takes " + ", ".join(IS_VALUES),
            )
    elif key in ("older", "newer"):
        try:
            parse_duration(value)
        except ValueError:
            raise _error(
                text, start, end, f"bad duration in '{shown}'", "use e.g. 30m, 2h, 3d, 1w, 1h30m"
            ) from None
    elif key == "expires":
        body = value[1:] if value[:1] in "<>" else value
        try:
            parse_duration(body)
        except ValueError:
            raise _error(
                text, start, end, f"bad window in '{shown}'", "use e.g. expires:<2h or expires:>1d"
            ) from None
    elif key in ("tag", "rule"):
        value = value.lower()
    return Term("filter", value, key=key, negated=negated, start=start, end=end)


class _Parser:
    """Recursive descent over the tokens: ``AND`` (side by side) of ``OR`` of unary terms.

    ``OR`` binds tighter than the implicit AND (as in Gmail), ``NOT`` and ``-`` tighter still;
    parentheses group.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.pos = 0

    def peek(self) -> _Token | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> _Token:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def parse(self) -> Node | None:
        root = self.conjunction()
        tok = self.peek()
        if tok is not None:  # only a ')' stops a conjunction early
            raise _error(self.text, tok.start, tok.end, "unmatched ')'", _PAREN_HINT)
        return root

    def conjunction(self) -> Node | None:
        items: list[Node] = []
        while (tok := self.peek()) is not None and tok.paren != ")":
            items.append(self.disjunction())
        if not items:
            return None
        return items[0] if len(items) == 1 else And(tuple(items))

    def disjunction(self) -> Node:
        items = [self.unary()]
        while (tok := self.peek()) is not None and tok.keyword == "OR":
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.paren == ")":
                raise _error(self.text, tok.start, tok.end, "'OR' needs a term on each side")
            items.append(self.unary())  # a second OR in a row is reported where it stands
        return items[0] if len(items) == 1 else Or(tuple(items))

    def unary(self) -> Node:
        tok = self.take()
        if tok.keyword == "OR":
            raise _error(self.text, tok.start, tok.end, "'OR' needs a term on each side")
        if tok.keyword == "NOT":
            nxt = self.peek()
            if nxt is None or nxt.keyword == "OR" or nxt.paren == ")":
                raise _error(self.text, tok.start, tok.end, "nothing to negate after 'NOT'")
            return Not(self.unary())
        if tok.paren == ")":
            raise _error(self.text, tok.start, tok.end, "unmatched ')'", _PAREN_HINT)
        if tok.paren == "(":
            inner = self.conjunction()
            close = self.peek()
            if close is None:
                raise _error(self.text, tok.start, tok.end, "unclosed '('", _PAREN_HINT)
            self.take()
            if inner is None:
                raise _error(self.text, tok.start, close.end, "empty parentheses")
            return Not(inner) if tok.negated else inner
        return _term(self.text, tok)


_PAREN_HINT = 'parentheses group terms: (a OR b) -(c d); to search for ")" quote it: ":)"'


def parse_query(text: str) -> Query:
    """Parse ``text`` into a tree of terms; :class:`QueryError` on a bad term."""
    return Query(text=text, root=_Parser(text).parse())


VIEW_KEY = "view"
"""``view:NAME`` stands for the saved query ``[views] NAME`` (expanded before parsing)."""
_VIEW_DEPTH = 4


def expand_views(text: str, views: Mapping[str, str], *, _depth: int = 0) -> str:
    """``text`` with every ``view:NAME`` term replaced by its saved query, in parentheses.

    ``-view:NAME`` negates the whole saved query. An unknown name, a broken saved query or
    views nested too deep are a :class:`QueryError` pointing at the term.
    """
    out = text
    for tok in reversed(_tokens(text)):
        m = _FILTER.fullmatch(tok.text) if not tok.quoted and not tok.paren else None
        if m is None or m.group(1).lower() != VIEW_KEY:
            continue
        name = m.group(2)
        saved = views.get(name)
        if saved is None:
            known = ", ".join(sorted(views)) or "none configured"
            raise _error(
                text, tok.start, tok.end, f"unknown view '{name}'", f"saved views: {known}"
            )
        if _depth >= _VIEW_DEPTH:
            raise _error(text, tok.start, tok.end, f"view '{name}' nests views too deeply")
        inner = expand_views(saved, views, _depth=_depth + 1)
        try:
            parse_query(inner)
        except QueryError as exc:
            raise _error(
                text,
                tok.start,
                tok.end,
                f"the saved view '{name}' is not a valid query",
                f"{exc.message}; fix [views] {name} in the config",
            ) from None
        if inner.strip():
            replacement = ("-" if tok.negated else "") + f"({inner})"
        elif tok.negated:
            message = f"the view '{name}' is empty: -view:{name} matches nothing"
            raise _error(text, tok.start, tok.end, message)
        else:
            replacement = ""  # an empty saved query matches everything
        out = out[: tok.start] + replacement + out[tok.end :]
    return out


def _fts_string(value: str) -> str:
    """A FTS5 string literal: only ``"`` is special inside one, and it is doubled."""
    return '"' + value.replace('"', '""') + '"'


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _Compiler:
    def __init__(
        self, now_s: int, text_plan: Callable[[str], TextPlan] | None, prefix: str = "q"
    ) -> None:
        self.now_s = now_s
        self.text_plan = text_plan
        self.prefix = prefix
        self.params: dict[str, Any] = {}

    def param(self, value: Any) -> str:
        name = f"{self.prefix}{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def node(self, node: Node) -> str:
        if isinstance(node, Term):
            return self.term(node)
        if isinstance(node, Not):
            # COALESCE: a NULL comparison must negate to true, not stay NULL.
            return f"NOT COALESCE(({self.node(node.child)}), 0)"
        if isinstance(node, Or):
            return "(" + " OR ".join(self.node(c) for c in node.children) + ")"
        # Children without text first: SQLite tests AND-ed terms in order, so the cheap column
        # tests reject a thread before any per-thread FTS work is spent on it.
        ordered = sorted(node.children, key=_has_text)
        return "(" + " AND ".join(self.node(c) for c in ordered) + ")"

    def term(self, t: Term) -> str:
        sql = self._positive(t)
        # COALESCE: a NULL comparison must negate to true, not stay NULL.
        return f"NOT COALESCE(({sql}), 0)" if t.negated else f"({sql})"

    def _positive(self, t: Term) -> str:
        if t.kind in ("word", "phrase"):
            if _TOKEN_CHAR.search(t.value):
                fts = f"text : {_fts_string(t.value)}"
                plan = self.text_plan(fts) if self.text_plan is not None else "in"
                match = self.param(fts)
                if plan == "probe":
                    # CROSS JOIN pins the order: the thread's messages first, then FTS by rowid.
                    return (
                        "EXISTS (SELECT 1 FROM messages m CROSS JOIN messages_fts f"
                        " ON f.rowid = m.rowid WHERE m.thread_id = t.id"
                        f" AND f.messages_fts MATCH {match})"
                    )
                if plan == "set":
                    return (
                        "EXISTS (SELECT 1 FROM messages m WHERE m.thread_id = t.id AND m.rowid IN"
                        f" (SELECT rowid FROM messages_fts WHERE messages_fts MATCH {match}))"
                    )
                return (
                    "t.id IN (SELECT m.thread_id FROM messages m WHERE m.rowid IN ("
                    f"SELECT rowid FROM messages_fts WHERE messages_fts MATCH {match}))"
                )
            # Nothing FTS5 would index (punctuation only): a plain substring search.
            return (
                "t.id IN (SELECT m.thread_id FROM messages m"
                f" WHERE instr(m.text, {self.param(t.value)}) > 0)"
            )
        key, value = t.key, t.value
        if key == "is":
            if value in ("dm", "comment", "ig_dm", "ig_comment"):
                return f"t.channel = {self.param(value)}"
            if value in ("ig", "instagram"):
                return "t.channel IN ('ig_dm', 'ig_comment')"
            if value == "facebook":
                return "t.channel IN ('dm', 'comment')"
            if value == "gap":
                return "EXISTS (SELECT 1 FROM thread_gaps x WHERE x.thread_id = t.id)"
            if value == "open":
                return (
                    "s.status = 'open' OR (s.status = 'snoozed'"
                    " AND s.snoozed_until IS NOT NULL AND s.snoozed_until <= :qnow)"
                )
            if value == "snoozed":
                return (
                    "s.status = 'snoozed' AND (s.snoozed_until IS NULL OR s.snoozed_until > :qnow)"
                )
            if value == "done":
                return "s.status = 'done'"
            if value == "awaiting":
                return "t.awaiting_reply = 1"
            if value == "unanswered":
                return UNANSWERED_SQL
            return "t.is_hidden = 1"  # hidden
        if key == "tag":
            return (
                "EXISTS (SELECT 1 FROM thread_tags g WHERE g.thread_id = t.id"
                f" AND g.tag = {self.param(value)})"
            )
        if key == "said":
            return self._said(value)
        if key == "rule":
            return (
                "EXISTS (SELECT 1 FROM rule_events e WHERE e.thread_id = t.id"
                f" AND e.rule = {self.param(value)} AND e.outcome = 'fired')"
            )
        if key == "from":
            return (
                f"t.customer_id = {self.param(value)} OR t.customer_name LIKE "
                f"{self.param('%' + _like_escape(value) + '%')} ESCAPE '\\'"
                f" OR t.customer_username = {self.param(value.lstrip('@'))}"
            )
        if key in ("older", "newer"):
            op = "<" if key == "older" else ">="
            since = self.param(self.now_s - parse_duration(value))
            return f"COALESCE(t.request_at, t.last_message_at) {op} {since}"
        if key == "expires":
            later = value.startswith(">")
            body = value[1:] if value[:1] in "<>" else value
            limit = self.param(self.now_s + parse_duration(body))
            if later:
                return f"{CLOSES_SQL} > {limit}"
            return f"{CLOSES_SQL} <= {limit}"
        # page
        p = self.param(value)
        return (
            f"t.page_id = {p}"
            f" OR t.page_id IN (SELECT id FROM pages WHERE name = {p} COLLATE NOCASE)"
        )

    def _said(self, value: str) -> str:
        """``said:``: an inbound message after the last human reply matches (see module doc)."""
        since = f"m.created_at > COALESCE({LAST_HUMAN_OUT_SQL}, -1)"
        base = f"m.thread_id = t.id AND m.direction = 'in' AND {since}"
        if _TOKEN_CHAR.search(value):
            match = self.param(f"text : {_fts_string(value)}")
            return (
                f"EXISTS (SELECT 1 FROM messages m WHERE {base} AND m.rowid IN"
                f" (SELECT rowid FROM messages_fts WHERE messages_fts MATCH {match}))"
            )
        needle = self.param(value)
        return f"EXISTS (SELECT 1 FROM messages m WHERE {base} AND instr(m.text, {needle}) > 0)"


def _has_text(node: Node) -> bool:
    """Whether a node tests message text (an FTS lookup), anywhere below it."""
    if isinstance(node, Term):
        return node.kind in ("word", "phrase") or node.key == "said"
    if isinstance(node, Not):
        return _has_text(node.child)
    return any(_has_text(c) for c in node.children)


def _check_pages(query: Query, pages: Collection[str]) -> None:
    """A ``page:`` term naming no known page is an error (as an unknown ``--page`` is)."""
    known = {p.casefold() for p in pages}
    for t in query.terms():
        if t.kind == "filter" and t.key == "page" and t.value.casefold() not in known:
            shown = ", ".join(sorted(pages)) or "none stored yet"
            raise _error(
                query.text, t.start, t.end, f"unknown page '{t.value}'", f"known pages: {shown}"
            )


def compile_query(
    text: str | None,
    *,
    now: datetime,
    human_agent: bool = False,
    text_plan: Callable[[str], TextPlan] | None = None,
    pages: Collection[str] | None = None,
    prefix: str = "q",
) -> CompiledQuery:
    """Compile a query (``None``: :data:`DEFAULT_QUERY`; ``""``: everything) to SQL.

    The result is a boolean expression over the aliases ``t`` (threads) and ``s``
    (thread_state), with named parameters including ``qnow`` and ``qha``. ``text_plan`` is
    given each text term's FTS5 match string and picks its :data:`TextPlan` (default ``in``);
    the plan changes the speed, never the result. ``pages`` (ids and names of the stored
    pages) makes a ``page:`` term naming none of them an error. ``prefix`` names the other
    parameters (``q0``, ``q1``…; another prefix lets several queries share one statement).
    """
    query = parse_query(DEFAULT_QUERY if text is None else text)
    if pages is not None:
        _check_pages(query, pages)
    c = _Compiler(int(now.timestamp()), text_plan, prefix)
    where = c.node(query.root) if query.root is not None else "1"
    params = dict(c.params)
    params["qnow"] = int(now.timestamp())
    params["qha"] = int(human_agent)
    return CompiledQuery(where=where, params=params)
