"""Human output of the command line: thread tables and detail, stats tables, doctor's table.

Called by ``list``/``show``/``demo``/``stats``/``doctor``/``ack``. Rich is imported inside the
functions. Customer text (names, messages, snippets, notes, post text, tags) only ever becomes
a ``rich.text.Text`` through :func:`socialdesk.cli.output.customer_text`, never markup. The
words (window labels, durations, channel names) come from :mod:`socialdesk.format`, shared with
the inbox.

Width: a thread's number is never cut. At 80 columns the snippet gives way first (to nothing),
then the customer name and the tags; the number, the channel, the age and the window keep their
full width.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from socialdesk.core.ack_plan import Plan
from socialdesk.core.health import HealthReport, ProbeReport
from socialdesk.core.inbox import Listing, ThreadDetail, ThreadRow
from socialdesk.core.stats import StatsReport
from socialdesk.format import age, channel_label, human_duration, iso, plural, window_label
from socialdesk.sanitize import clean

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

SNIPPET_WIDTH = 60
"""Longest snippet shown in the table, in characters (the rest becomes an ellipsis)."""
NAME_WIDTH = 24


def _text(
    value: str, *, single_line: bool = True, width: int | None = None, style: str = ""
) -> Text:
    """Untrusted text as a Rich ``Text``: sanitised, optionally one line and truncated."""
    from socialdesk.cli.output import customer_text

    text = customer_text(value, single_line=single_line, style=style)
    if single_line:
        text.plain = " ".join(text.plain.split())
    if width is not None and len(text.plain) > width:
        text.truncate(width - 1)
        text.append("…")
    return text


_GAP = 3
"""Columns of space between two table columns (padding on both sides and the divider)."""
_SNIPPET_MIN = 8
"""A snippet narrower than this says nothing: the column goes instead."""


_GIVE_WAY: tuple[tuple[int, int], ...] = (
    (0, 16),  # the snippet, to a glimpse
    (1, 12),  # the customer's name
    (2, 4),  # the tags
    (0, 0),  # the snippet goes
    (2, 0),  # the tags go
    (1, 6),
    (3, 0),  # on a very narrow terminal: the channel, the age, the window, the name
    (4, 0),
    (5, 0),
    (1, 0),
)
"""(column, width) steps in the order the flexible columns give way: snippet, customer, tags,
channel, age, window. The number is not among them: it is never cut."""


def _fit(width: int, fixed: int, natural: list[int]) -> list[int]:
    """Widths for the flexible columns (see :data:`_GIVE_WAY`) so that a row of them and the
    ``fixed`` columns' width fits ``width``; a column given 0 is left out."""
    out = list(natural)

    def total() -> int:
        cols = [w for w in out if w > 0]
        return fixed + sum(cols) + _GAP * len(cols)

    for i, floor in _GIVE_WAY:
        excess = total() - width
        if excess <= 0:
            break
        if out[i] > floor:
            out[i] = max(floor, out[i] - excess)
            if i == 0 and 0 < out[i] < _SNIPPET_MIN:
                out[i] = 0
    return out


def thread_table(rows: Sequence[ThreadRow], console: Console, *, now: datetime) -> None:
    """Print ``rows``: number, unread marker, channel, customer, snippet, age, window, tags.

    The number, channel, age and window keep their width whatever the terminal's: the snippet
    gives way first, then the customer name and the tags (see :func:`_fit`).
    """
    from rich.cells import cell_len

    from socialdesk.cli.output import make_table

    cells = []
    for r in rows:
        t = r.thread
        marker = "" if t.status.value == "open" else f"[{t.status.value}]"
        cells.append(
            (
                f"#{t.number}",
                "•" if r.unread else "",
                channel_label(t.channel),
                _text(t.customer.name or t.customer.id or "?", width=NAME_WIDTH),
                _text(t.snippet, width=SNIPPET_WIDTH),
                age(t, now),
                window_label(r.window, now),
                _text(" ".join([*t.tags, marker]).strip(), width=20),
            )
        )

    def widest(i: int, header: str) -> int:
        return max([cell_len(header), *(cell_len(str(c[i])) for c in cells)])

    unread = any(r.unread for r in rows)
    number = widest(0, "#")
    has_tags = any(str(c[7]) for c in cells)
    natural = [widest(4, "snippet"), widest(3, "customer"), widest(7, "tags") if has_tags else 0,
               widest(2, "channel"), widest(5, "age"), widest(6, "window")]  # fmt: skip
    fixed = number + (1 + _GAP if unread else 0)
    snippet, customer, tags, channel, age_w, window = _fit(console.width, fixed, natural)
    columns: list[tuple[int, str, dict[str, Any]]] = [
        (0, "#", {"justify": "right", "width": number}),
        (1, "", {"width": 1 if unread else 0}),
        (2, "channel", {"width": channel, "overflow": "ellipsis"}),
        (3, "customer", {"width": customer, "overflow": "ellipsis"}),
        (4, "snippet", {"width": snippet, "overflow": "ellipsis"}),
        (5, "age", {"justify": "right", "width": age_w}),
        (6, "window", {"width": window, "overflow": "ellipsis"}),
        (7, "tags", {"width": tags, "overflow": "ellipsis"}),
    ]
    shown = [(i, h, kw) for i, h, kw in columns if kw["width"] > 0]
    table = make_table(*[(h, {"no_wrap": True, **kw}) for _, h, kw in shown])
    for c in cells:
        table.add_row(*[c[i] for i, _, _ in shown])
    console.print(table)


def listing(result: Listing, console: Console, *, now: datetime, limit_hint: str) -> None:
    """A listing, and the line saying it was cut (``limit_hint`` names how to see more)."""
    if not result.rows:
        console.print("no threads match", style="dim")
        return
    thread_table(result.rows, console, now=now)
    if result.truncated:
        from rich.text import Text

        console.print(
            Text(f"{len(result.rows)} of {result.total} shown — {limit_hint}", style="dim")
        )


def _window_line(d: ThreadDetail, now: datetime) -> str:
    w = d.window
    state = "awaiting reply" if d.thread.awaiting_reply else "answered"
    shown = window_label(w, now)
    if w.closed_at is not None:
        shown += f" since {iso(w.closed_at)}"
    elif w.closes_at is not None:
        # The kind is named before the colon: no "(private)" suffix here.
        left = human_duration(max(0.0, (w.closes_at - now).total_seconds()))
        shown = f"{left} left (closes {iso(w.closes_at)})"
    return f"{state} · {w.kind.value} window: {shown}"


def thread_detail(d: ThreadDetail, console: Console, *, now: datetime) -> None:
    """One thread: header, window, the post (comments), messages, other threads, note."""
    from rich.text import Text

    t = d.thread
    header = Text(f"#{t.number} ", style="bold")
    header.append(channel_label(t.channel) + "  ")
    header.append_text(_text(t.customer.name or t.customer.id or "?", style="bold"))
    header.append(f"  {t.status.value}")
    if t.snoozed_until is not None:
        header.append(f" until {iso(t.snoozed_until)}")
    if t.tags:
        header.append("  ")
        header.append_text(_text(" ".join(f"+{tag}" for tag in t.tags), style="cyan"))
    console.print(header)
    console.print(Text(_window_line(d, now), style="dim"))
    if t.post_id is not None:
        post = Text("post: ", style="dim")
        post.append_text(
            _text(d.post.message if d.post else t.post_message or t.post_id, width=200)
        )
        console.print(post)
    console.print()
    if d.has_older:
        console.print(Text("(older messages not shown)", style="dim"))
    gaps = list(d.gaps)
    for m in d.messages:
        while gaps and m.created_at >= gaps[0][1]:
            after, before = gaps.pop(0)
            console.print(
                Text(
                    f"··· messages between {iso(after)} and {iso(before)} could not be read:"
                    " more than 20 arrived between two syncs (Instagram shows only the 20"
                    " newest) ···",
                    style="yellow",
                )
            )
        line = Text(m.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M") + "  ", style="dim")
        who = m.author.name or m.author.id or ("page" if m.direction.value == "out" else "?")
        style = "green" if m.direction.value == "out" else "bold"
        line.append_text(_text(who, width=30, style=style))
        if m.parent_id and t.channel.value in ("comment", "ig_comment") and m.id != t.id:
            line.append(" ↳", style="dim")
        if m.is_hidden:
            line.append(" (hidden)", style="yellow")
        if m.id in d.echoed:
            line.append(" (sent; not read back yet)", style="dim")
        console.print(line)
        if m.text:
            body = _text(m.text, single_line=False)
            body.pad_left(4)
            console.print(body)
        for a in m.attachments:
            att = Text(f"    [{a.kind}] ", style="magenta")
            att.append_text(_text(a.name or "", width=80))
            if a.url:
                att.append(" ")
                att.append_text(_text(a.url, width=200, style="dim"))
            console.print(att)
    for e in d.pending_sends:
        console.print(
            Text(f"outbox entry {e.id}: {e.state.value} — see `socialdesk outbox`", style="yellow")
        )
    if d.others:
        console.print()
        console.print(Text("other threads of this customer:", style="dim"))
        thread_table(d.others, console, now=now)
    if t.note:
        console.print()
        note = Text("note: ", style="dim")
        note.append_text(_text(t.note, single_line=False))
        console.print(note)


# ---- doctor ---------------------------------------------------------------------------------


def health(report: HealthReport, console: Console) -> str:
    """The checks as a table; returns the closing line ("1 failed, 2 warnings.")."""
    from socialdesk.cli.output import customer_text, make_table

    table = make_table("check", "status", ("detail", {"overflow": "fold"}))
    styles = {"ok": "green", "warn": "yellow", "fail": "bold red"}
    for c in report.checks:
        table.add_row(
            customer_text(c.name),
            customer_text(c.status, style=styles[c.status]),
            customer_text(c.detail),
        )
    console.print(table)
    failed, warned = len(report.failed), len(report.warnings)
    if not failed and not warned:
        return "Everything looks fine."
    return f"{failed} failed, {plural(warned, 'warning')}."


def probes(report: ProbeReport, console: Console) -> str:
    """``doctor --probe``: each question, its status and what was found; returns the summary
    line."""
    from socialdesk.cli.output import customer_text, make_table

    table = make_table(
        "#", "status", ("question", {"overflow": "fold"}), ("found", {"overflow": "fold"})
    )
    styles = {"as_assumed": "green", "differs": "bold red", "error": "yellow"}
    for r in report.results:
        table.add_row(
            str(r.number),
            customer_text(r.status.value, style=styles.get(r.status.value, "dim")),
            customer_text(f"{r.question} (assumed: {r.assumption})"),
            customer_text(r.found),
        )
    console.print(table)
    differs = len(report.differs)
    if not differs:
        return f"probe: {plural(len(report.results), 'question')}, none contradicts socialdesk."
    return (
        f"probe: {plural(differs, 'answer')} contradict socialdesk's assumptions; please report "
        "them (socialdesk doctor --probe --json)"
    )


# ---- ack --------------------------------------------------------------------------------------


def plan_lines(plan: Plan) -> list[str]:
    """The plan, one line per thread and a count line (customer text cleaned)."""
    lines = []
    for it in plan.items:
        who = clean(it.customer_name or it.customer_id, single_line=True)
        text = clean(it.text, single_line=True)
        lines.append(f"#{it.number:<5} {who[:24]:<24} {it.channel:<8} {it.kind!s:<15} {text}")
    counts: dict[str, int] = {}
    for s in plan.skipped:
        counts[s.reason.label] = counts.get(s.reason.label, 0) + 1
    tail = f"; skipped {len(plan.skipped)} ({skip_summary(counts)})" if plan.skipped else ""
    lines.append(f"plan: {len(plan.items)} to send{tail}")
    return lines


def skip_summary(counts: dict[str, int]) -> str:
    """``3 done, 1 snoozed`` (reasons in alphabetical order)."""
    return ", ".join(f"{n} {clean(r, single_line=True)}" for r, n in sorted(counts.items()))


# ---- stats ------------------------------------------------------------------------------------


def _pct(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def _dur(seconds: float | None) -> str:
    return "–" if seconds is None else human_duration(seconds)


def badge_lines(report: StatsReport) -> list[str]:
    """The badge estimate, the figures that decide it, and what keeps (or earns) it."""
    b = report.badge
    verdict = "earned" if b.earned else "not earned"
    goal = "to keep the badge" if b.earned else "to earn the badge"
    return [
        f"Meta badge estimate (DMs, last 7 days): {verdict}",
        f"  rate {_pct(b.rate)} (90% needed) · median response"
        f" {_dur(b.median_response_s)} (15m at most)",
        f"  {plural(b.requests, 'request')}: {b.answered} answered, {b.waiting} waiting",
        f"  {goal}: {b.to_keep.sentence(earned=b.earned)}",
    ]


# (label, Figures attribute, formatter) of the one-day table, top to bottom.
_DAY_ROWS: tuple[tuple[str, str, str], ...] = (
    ("inbound messages", "inbound", "n"),
    ("requests", "requests", "n"),
    ("answered", "responded", "n"),
    ("  within 24 h", "responded_24h", "n"),
    ("pending (< 24 h old)", "pending", "n"),
    ("missed", "missed", "n"),
    ("response rate", "response_rate", "pct"),
    ("first response: median", "median_s", "dur"),
    ("  90th percentile", "p90_s", "dur"),
    ("  mean", "mean_s", "dur"),
    ("  median, business hours", "median_bh_s", "dur"),
    ("threads marked done", "done", "n"),
    ("awaiting reply at day end", "backlog", "n"),
)


def _fmt(value: Any, kind: str) -> str:
    if kind == "pct":
        return _pct(value)
    if kind == "dur":
        return _dur(value)
    return str(value)


def _local_today(report: StatsReport) -> date:
    from zoneinfo import ZoneInfo

    return report.generated_at.astimezone(ZoneInfo(report.timezone)).date()


def stats_table(report: StatsReport, page_label: str, console: Console, channel_hint: str) -> None:
    """The at-a-glance table (fits 80 columns).

    One day: a figure per row, a column per channel and the total. Several days: a row per
    day with the main figures of the total (or of one channel); ``channel_hint`` says how to
    get the per-channel figures.
    """
    from rich.text import Text

    from socialdesk.cli.output import customer_text, make_table

    period = report.period
    span = (
        period.since.isoformat()
        if period.since == period.until
        else f"{period.since.isoformat()} – {period.until.isoformat()}"
    )
    scope = f"{report.channel} only" if report.channel else "all channels"
    title = customer_text(f"{page_label} · {span} ({report.timezone}) · {scope}", single_line=True)
    console.print(title, style="bold")
    bh = report.business_hours is not None
    right: dict[str, Any] = {"justify": "right", "no_wrap": True}
    if len(report.days) == 1:
        day = report.days[0]
        names = [*day.channels, "total"]
        table = make_table(("", {"no_wrap": True}))
        for name in names:  # channel names come from the database: never markup
            table.add_column(customer_text(name, single_line=True), **right)
        figures = [*day.channels.values(), day.total]
        for label, attr, kind in _DAY_ROWS:
            if attr == "median_bh_s" and not bh:
                continue
            if attr == "backlog" and period.until >= _local_today(report):
                label = "awaiting reply now"
            cells = [_fmt(getattr(f, attr), kind) for f in figures]
            table.add_row(Text(label), *[Text(c) for c in cells])
        console.print(table)
    else:
        headers = ["day", "in", "req", "≤24h", "pend", "miss", "rate", "median", "p90",
                   *(["med bh"] if bh else []), "done", "backlog"]  # fmt: skip
        table = make_table(("day", {"no_wrap": True}), *[(h, right) for h in headers[1:]])
        # The box's column divider is the only gap, so a month of rows fits 80 columns.
        table.padding = (0, 0, 0, 0)
        for d in report.days:
            f = d.total
            cells = [d.day.isoformat(), str(f.inbound), str(f.requests), str(f.responded_24h),
                     str(f.pending), str(f.missed), _pct(f.response_rate), _dur(f.median_s),
                     _dur(f.p90_s), *([_dur(f.median_bh_s)] if bh else []), str(f.done),
                     str(f.backlog)]  # fmt: skip
            table.add_row(*[Text(c) for c in cells])
        console.print(table)
        console.print(
            Text(
                "in = inbound messages, req = requests, ≤24h = answered within 24 h, pend ="
                " pending, miss = missed; median/p90 = first response time; backlog = awaiting"
                f" reply at day end. Per channel: {channel_hint}.",
                style="dim",
            )
        )
    for line in badge_lines(report):
        console.print(Text(line))
