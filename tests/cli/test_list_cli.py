"""``socialdesk list`` / ``count`` / ``show`` and the thread renderer: parsing, exit codes,
rendering (safe, 80 columns) and JSON. The JSON fields are held to the README by
``test_json_contract.py``."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from socialdesk.cli import app, render, views
from socialdesk.core.inbox import ThreadRow
from socialdesk.core.windows import window_for
from socialdesk.models import (
    Attachment,
    Channel,
    Direction,
    Message,
    Person,
    Post,
    SendKind,
    Status,
    Thread,
)
from tests.support.sandbox import SandboxEnv

runner = CliRunner()

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
HOSTILE = "Mallory \x1b[2J\x1b]52;c;cm0=\x07\u202etxt.exe\u202c \x9b31m [bold red]x[/bold red]"


@pytest.fixture
def synced(sandbox_env: SandboxEnv) -> SandboxEnv:
    result = runner.invoke(app, ["sync"])
    assert result.exit_code == 0, result.output
    return sandbox_env


def _list_json(*args: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["list", "--json", *args])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data["threads"], list)
    return list(data["threads"])


def test_list_default_is_open_and_awaiting(synced: SandboxEnv) -> None:
    """Default list: open threads awaiting reply of the page, times in Z."""
    rows = _list_json()
    assert rows
    for row in rows:
        assert row["status"] == "open" and row["awaiting_reply"] is True
        assert row["page_id"] == synced.page_id
        assert ISO_Z.match(row["last_message_at"]) and ISO_Z.match(row["request_at"])
        assert row["channel"] in ("dm", "comment")


def test_a_cut_listing_says_so(synced: SandboxEnv) -> None:
    """--limit below the matches: the table ends with "2 of N shown — use --limit N", and the
    JSON says truncated with the total; a listing that fits says neither."""
    everything = _list_json("", "--limit", "500")
    total = len(everything)
    data = json.loads(runner.invoke(app, ["list", "", "--limit", "2", "--json"]).stdout)
    assert (data["shown"], data["total"], data["truncated"]) == (2, total, True)
    assert len(data["threads"]) == 2
    full = json.loads(runner.invoke(app, ["list", "", "--limit", "500", "--json"]).stdout)
    assert (full["shown"], full["total"], full["truncated"]) == (total, total, False)
    out = runner.invoke(app, ["list", "", "--limit", "2"]).stdout
    assert out.rstrip().endswith(f"2 of {total} shown — use --limit {total} to see all")
    assert "shown —" not in runner.invoke(app, ["list", "", "--limit", "500"]).stdout


def test_count_prints_the_number_of_matches(synced: SandboxEnv) -> None:
    """count QUERY prints how many threads match (default: the default query), JSON too."""
    everything = _list_json("", "--limit", "500")
    dms = [r for r in everything if r["channel"] == "dm"]
    assert runner.invoke(app, ["count", ""]).stdout == f"{len(everything)}\n"
    assert runner.invoke(app, ["count", "is:dm"]).stdout == f"{len(dms)}\n"
    assert runner.invoke(app, ["count", "-is:comment"]).stdout == f"{len(dms)}\n"
    data = json.loads(runner.invoke(app, ["count", "is:dm", "--json"]).stdout)
    assert data == {"query": "is:dm", "count": len(dms)}
    assert runner.invoke(app, ["count", "is:bogus"]).exit_code == 2


def test_saved_views_work_on_the_command_line(synced: SandboxEnv) -> None:
    """[views] urgent = "is:dm": `list view:urgent`, `list --view urgent` and `count` agree."""
    from socialdesk.paths import resolve_paths

    resolve_paths().config_file.write_text(
        f'default_page = "shop"\n[pages.shop]\nid = "{synced.page_id}"\n[views]\ndms = "is:dm"\n'
    )
    dms = {r["id"] for r in _list_json("is:dm", "--limit", "500")}
    assert {r["id"] for r in _list_json("view:dms", "--limit", "500")} == dms
    assert {r["id"] for r in _list_json("--view", "dms", "--limit", "500")} == dms
    assert runner.invoke(app, ["count", "--view", "dms"]).stdout == f"{len(dms)}\n"
    assert {r["id"] for r in _list_json("-view:dms", "", "--limit", "500")}.isdisjoint(dms)
    res = runner.invoke(app, ["list", "--view", "nope"])
    assert res.exit_code == 2 and "unknown view 'nope'" in res.stderr and "dms" in res.stderr


def test_list_help_shows_the_query_syntax() -> None:
    """`list --help` (and count, tag) lists the query terms, NOT and parentheses."""
    for command in ("list", "count", "tag"):
        out = runner.invoke(app, [command, "--help"]).stdout
        for word in ("is:awaiting", "tag:NAME", "expires:<2h", "NOT", "(tag:a OR tag:b)"):
            assert word in out, (command, word)


def test_page_nope_in_a_query_is_an_error(synced: SandboxEnv) -> None:
    """page:nope names no page: exit 2 naming the term, as --page nope is."""
    res = runner.invoke(app, ["list", "page:nope"])
    assert res.exit_code == 2 and "unknown page 'nope'" in res.stderr
    assert runner.invoke(app, ["list", "--page", "nope"]).exit_code == 2


def test_list_query_sort_and_limit(synced: SandboxEnv) -> None:
    """A query narrows, --sort newest orders by last message, --limit caps."""
    comments = _list_json("is:comment", "--limit", "100")
    assert comments and {r["channel"] for r in comments} == {"comment"}
    newest = _list_json("", "--sort", "newest", "--limit", "5")
    assert len(newest) == 5
    times = [r["last_message_at"] for r in newest]
    assert times == sorted(times, reverse=True)


def test_list_bad_query_and_bad_sort_exit_2(synced: SandboxEnv) -> None:
    """A bad query term or an unknown sort is a usage error (exit 2) naming the problem."""
    result = runner.invoke(app, ["list", "is:nonsense"])
    assert result.exit_code == 2
    assert "is:nonsense" in result.stderr
    result = runner.invoke(app, ["list", "--sort", "sideways"])
    assert result.exit_code == 2


def test_list_human_output_is_a_table_without_escapes_or_markup(synced: SandboxEnv) -> None:
    """The table shows #numbers and windows; hostile names arrive with no escape sequence."""
    result = runner.invoke(app, ["list", "", "--limit", "200"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert re.search(r"#\d+", out)
    assert "Mallory" in out
    assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out
    assert "\u202e" not in out


def test_show_json_adds_messages_note_and_post(synced: SandboxEnv) -> None:
    """show --json: the thread plus its messages (oldest first), note and post; --limit keeps
    the newest messages and says older ones exist."""
    comment = _list_json("is:comment", "--limit", "1")[0]
    result = runner.invoke(app, ["show", f"#{comment['number']}", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["post"]["id"] and data["messages"] and data["has_older"] is False
    for m in data["messages"]:
        assert ISO_Z.match(m["created_at"]) and m["direction"] in ("in", "out")
    stamps = [m["created_at"] for m in data["messages"]]
    assert stamps == sorted(stamps)
    dm = _list_json("is:dm", "--limit", "1")[0]
    result = runner.invoke(app, ["show", dm["id"], "--json"])
    assert result.exit_code == 0
    full = json.loads(result.stdout)
    assert full["post"] is None
    if len(full["messages"]) > 1:
        cut = json.loads(runner.invoke(app, ["show", dm["id"], "--json", "--limit", "1"]).stdout)
        assert cut["messages"] == full["messages"][-1:] and cut["has_older"] is True


def test_show_human_prints_messages_safely(synced: SandboxEnv) -> None:
    """show prints timestamps, authors and text; the hostile thread's escapes are neutralised."""
    rows = _list_json("", "--limit", "500")
    hostile = next(r for r in rows if "Mallory" in r["customer"]["name"] and r["channel"] == "dm")
    result = runner.invoke(app, ["show", str(hostile["number"])])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "YOUR SCREEN IS MINE" in out
    assert "[bold red]markup[/bold red]" in out  # printed literally, never interpreted
    assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", out)


def test_show_unknown_thread_exits_2(synced: SandboxEnv) -> None:
    """An unknown thread reference is a usage error with a hint."""
    result = runner.invoke(app, ["show", "#99999"])
    assert result.exit_code == 2
    assert "no thread" in result.stderr


NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _thread(**kw: Any) -> Thread:
    base: dict[str, Any] = {
        "number": 7,
        "id": "t_1",
        "page_id": "p1",
        "channel": Channel.DM,
        "status": Status.OPEN,
        "customer": Person("u1", HOSTILE),
        "last_message_at": NOW - timedelta(hours=2),
        "awaiting_reply": True,
        "request_at": NOW - timedelta(hours=3),
        "last_inbound_at": NOW - timedelta(hours=2),
        "snippet": "line one\nline two \x1b[31mred [bold red]loud[/bold red]",
        "tags": ("vip",),
    }
    base.update(kw)
    return Thread(**base)


def _row(th: Thread) -> ThreadRow:
    return ThreadRow(th, window_for(th, NOW, False), th.unread)


def test_thread_view_computes_the_window_and_formats_times() -> None:
    """views.thread: standard window closes 24 h after the last inbound; times are ISO Z."""
    data = views.row(_row(_thread()))
    assert data["window"] == {"kind": "standard", "closes_at": "2026-11-21T10:00:00Z",
                              "closed_at": None}  # fmt: skip
    assert data["request_at"] == "2026-11-20T09:00:00Z"
    assert data["customer"] == {"id": "u1", "name": HOSTILE, "username": ""}  # the raw value
    assert data["tags"] == ["vip"] and data["number"] == 7 and data["unread"] is True
    closed = views.row(_row(_thread(last_inbound_at=NOW - timedelta(days=2))))
    assert closed["window"]["kind"] == "closed" and closed["window"]["closes_at"] is None
    assert closed["window"]["closed_at"] == "2026-11-19T12:00:00Z"


def test_message_view_shape() -> None:
    """views.message carries direction, author, text, attachments and created_at."""
    m = Message(
        id="m_1",
        thread_id="t_1",
        direction=Direction.OUT,
        author=Person("p1", "Shop"),
        text="",
        created_at=NOW,
        attachments=(Attachment("image", url="https://x/y.jpg", name="y.jpg"),),
    )
    data = views.message(m, echoed=True)
    assert data["direction"] == "out" and data["created_at"] == "2026-11-20T12:00:00Z"
    assert data["author"] == {"id": "p1", "name": "Shop", "username": ""}
    assert data["pending_read_back"] is True
    assert data["attachments"][0]["kind"] == "image"


def _table(rows: list[ThreadRow], width: int) -> str:
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, markup=True)
    render.thread_table(rows, console, now=NOW)
    return buf.getvalue()


def test_render_thread_table_sanitises_customer_text() -> None:
    """The renderer puts names and snippets in as cleaned single-line Text."""
    out = _table([_row(_thread()), _row(_thread(number=8, id="t_2", tags=()))], 160)
    assert "#7" in out and "#8" in out
    assert "\x1b" not in out and "\x9b" not in out and "\u202e" not in out
    assert "[bold red]loud[/bold red]" in out  # markup in customer text is shown, not applied
    assert "line one" in out and "line two" in out  # one line per thread
    assert len(out.strip().splitlines()) == 4  # header, rule, two rows
    assert "22h" in out  # window time left


@pytest.mark.parametrize("width", [80, 60, 40, 24])
def test_the_thread_number_is_never_cut(width: int) -> None:
    """At any width every row starts with its full #N; at 80 the age and window stay whole and
    the snippet is what gives way."""
    rows = [_row(_thread(number=n, id=f"t_{n}", tags=("vip", "refund"))) for n in (7, 1234, 99999)]
    out = _table(rows, width)
    lines = out.rstrip("\n").splitlines()[2:]
    assert [line.split()[0] for line in lines] == ["#7", "#1234", "#99999"]
    assert all(len(line) <= width for line in out.splitlines())
    if width == 80:
        assert all("3h" in line and "22h" in line for line in lines)  # age, window left


def test_list_query_words_and_negated_terms_need_no_quoting(synced: SandboxEnv) -> None:
    """`list is:dm -tag:x` and `list -is:comment` work unquoted; options may come anywhere."""
    everything = _list_json("", "--limit", "500")
    dms = {r["id"] for r in everything if r["channel"] == "dm"}
    assert dms and len(dms) < len(everything)
    assert {r["id"] for r in _list_json("-is:comment", "--limit", "500")} == dms
    assert {
        r["id"] for r in _list_json("--limit", "500", "is:open", "-is:comment", "-tag:hot")
    } == {r["id"] for r in everything if r["channel"] == "dm" and r["status"] == "open"}
    assert {r["id"] for r in _list_json("--limit=500", "--", "-is:comment")} == dms


def test_list_unknown_option_and_missing_value_are_usage_errors(synced: SandboxEnv) -> None:
    """A mistyped --option is never read as a query; --sort without a value is exit 2."""
    for args in (["--bogus"], ["--sort"], ["is:dm", "--limit"]):
        result = runner.invoke(app, ["list", *args])
        assert result.exit_code == 2, (args, result.output)
        assert result.stdout == ""


def test_bad_query_error_is_one_line_with_a_one_line_hint(synced: SandboxEnv) -> None:
    """The error names the term and its position; the hint is a single readable line."""
    result = runner.invoke(app, ["list", "is:dm", "OR"])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "error: 'OR' needs a term on each side at position 7"
    assert len(lines) == 2 and lines[1].startswith("hint: ") and "⏎" not in lines[1]


def test_show_names_the_window_once(synced: SandboxEnv) -> None:
    """show's window line reads "<kind> window: 6d 23h left (closes …)", kind named once."""
    comment = _list_json("is:comment is:awaiting", "--limit", "1")[0]
    result = runner.invoke(app, ["show", str(comment["number"])])
    assert result.exit_code == 0, result.output
    line = result.stdout.splitlines()[1]
    assert re.search(r"private_reply window: \S+( \S+)? left \(closes \S+Z\)$", line), line


def test_comment_window_runs_from_the_newest_customer_comment(synced: SandboxEnv) -> None:
    """A 6.5-day-old comment with the customer's 1-hour-old reply under it: a private reply
    answers the newest customer comment, so the window closes 7 d after THAT one (list and
    expires: agree); once it is privately answered the thread is public."""
    from socialdesk.paths import resolve_paths
    from socialdesk.store import cache, outbox
    from socialdesk.store.db import open_db, transaction

    now = datetime.now(UTC).replace(microsecond=0)
    commented = now - timedelta(days=6, hours=12)
    cust, shop = Person("u_window", "Window Tester"), Person(synced.page_id, "Shop")
    top = Message("pw_c1", "pw_c1", Direction.IN, cust, "hello?", commented)
    answer = Message(
        "pw_c2",
        "pw_c1",
        Direction.OUT,
        shop,
        "hi",
        commented + timedelta(hours=1),
        parent_id="pw_c1",
    )
    again = Message(
        "pw_c3",
        "pw_c1",
        Direction.IN,
        cust,
        "still there?",
        now - timedelta(hours=1),
        parent_id="pw_c1",
    )
    conn = open_db(resolve_paths().db_file)
    try:
        with transaction(conn):
            cache.upsert_posts(
                conn,
                synced.page_id,
                [
                    Post(
                        "pw",
                        synced.page_id,
                        now - timedelta(days=8),
                        "sale",
                        comments=(again, answer, top),
                    )
                ],
                now=now,
            )
    finally:
        conn.close()

    assert _list_json("expires:<1d", "from:u_window") == []
    rows = _list_json("expires:<7d", "from:u_window")
    assert [r["id"] for r in rows] == ["pw_c1"]
    closes = (again.created_at + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert rows[0]["window"] == {"kind": "private_reply", "closes_at": closes, "closed_at": None}
    # The expires sort orders by the same time the window column shows.
    soonest = _list_json("expires:<7d", "--sort", "expires")
    shown = [r["window"]["closes_at"] for r in soonest]
    assert "pw_c1" in [r["id"] for r in soonest] and shown == sorted(shown)

    conn = open_db(resolve_paths().db_file)
    try:
        with transaction(conn):
            oid = outbox.enqueue(
                conn,
                page_id=synced.page_id,
                thread_id="pw_c1",
                kind=SendKind.COMMENT_PRIVATE,
                text="we wrote to you",
                now=now,
                comment_id="pw_c3",
            )
            assert outbox.mark_sending(conn, oid, now=now)
            assert outbox.mark_sent(conn, oid, "m_private", now=now)
    finally:
        conn.close()
    assert _list_json("expires:<7d", "from:u_window") == []
    rows = _list_json("from:u_window")
    assert rows[0]["window"] == {"kind": "public", "closes_at": None, "closed_at": None}
    table = runner.invoke(app, ["list", "from:u_window"])
    assert table.exit_code == 0, table.output
    assert "public" in table.stdout


def test_the_help_names_the_real_default_query() -> None:
    """The default query the help text names is the one the store applies."""
    from socialdesk.cli import cmd_list
    from socialdesk.store import query

    assert cmd_list.DEFAULT_QUERY == query.DEFAULT_QUERY
