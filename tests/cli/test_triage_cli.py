"""Triage commands (tag, done, reopen, snooze, note, hide, unhide) and --until parsing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from socialdesk.core.triage import parse_when
from socialdesk.errors import UsageError
from tests.support.cli import new_comment, new_dm, run
from tests.support.sandbox import SandboxEnv

NOW = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)  # a Wednesday
WARSAW = ZoneInfo("Europe/Warsaw")  # UTC+1 in March


def _show(ref: str) -> dict[str, Any]:
    res = run("show", ref, "--json")
    assert res.exit_code == 0, res.output
    return dict(json.loads(res.stdout))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", NOW + timedelta(hours=2)),
        ("30m", NOW + timedelta(minutes=30)),
        ("3d", NOW + timedelta(days=3)),
        ("tomorrow 9:00", datetime(2026, 3, 5, 8, 0, tzinfo=UTC)),
        ("tomorrow", datetime(2026, 3, 5, 8, 0, tzinfo=UTC)),
        ("mon 9:00", datetime(2026, 3, 9, 8, 0, tzinfo=UTC)),
        ("wednesday", datetime(2026, 3, 11, 8, 0, tzinfo=UTC)),
        ("17:00", datetime(2026, 3, 4, 16, 0, tzinfo=UTC)),
        ("9:00", datetime(2026, 3, 5, 8, 0, tzinfo=UTC)),
        ("2026-03-06T10:15", datetime(2026, 3, 6, 9, 15, tzinfo=UTC)),
        ("2026-03-06T10:15+00:00", datetime(2026, 3, 6, 10, 15, tzinfo=UTC)),
        ("2026-03-06", datetime(2026, 3, 6, 8, 0, tzinfo=UTC)),
    ],
)
def test_parse_when(text: str, expected: datetime) -> None:
    """--until forms resolve in the configured zone to the next future moment."""
    assert parse_when(text, now=NOW, tz=WARSAW) == expected


@pytest.mark.parametrize("text", ["", "soon", "0h", "25:00", "2020-01-01", "today 8:00", "funday"])
def test_parse_when_rejects(text: str) -> None:
    """Unreadable or past times are usage errors."""
    with pytest.raises(UsageError):
        parse_when(text, now=NOW, tz=WARSAW)


def test_done_reopen_snooze(sandbox_env: SandboxEnv) -> None:
    """done, reopen and snooze change the status locally, one line per thread."""
    _, a = new_dm(sandbox_env, "Ann Triage")
    _, b = new_dm(sandbox_env, "Ben Triage")
    res = run("done", a, b)
    assert res.exit_code == 0 and res.stdout.count("\n") == 2
    assert _show(a)["status"] == "done"
    assert "already done" in run("done", a).stdout
    assert run("reopen", a).exit_code == 0 and _show(a)["status"] == "open"
    res = run("snooze", b, "--until", "2h", "--json")
    assert json.loads(res.stdout)["threads"][0]["changed"] is True
    assert _show(b)["status"] == "snoozed"
    assert run("snooze", b, "--until", "whenever").exit_code == 2
    assert run("done", a, "#99999").exit_code == 2
    assert _show(a)["status"] == "open"  # nothing changed: one ref was bad


def test_tags_and_note(sandbox_env: SandboxEnv) -> None:
    """tag +x adds and -x removes tags (several threads at once); note sets and clears."""
    _, ref = new_dm(sandbox_env, "Tag Tess")
    _, other = new_dm(sandbox_env, "Tag Toby")
    assert run("tag", ref, "+vip", "+refund").exit_code == 0
    assert set(_show(ref)["tags"]) == {"vip", "refund"}
    res = run("tag", ref, other, "-vip", "+later")
    assert res.exit_code == 0 and res.stdout.count("\n") == 2
    assert _show(ref)["tags"] == ["later", "refund"] and _show(other)["tags"] == ["later"]
    assert run("tag", ref, "+bad tag").exit_code == 2
    assert run("tag", ref).exit_code == 2  # no tag named
    assert run("note", ref, "called back on Monday").exit_code == 0
    assert _show(ref)["note"] == "called back on Monday"
    assert "note cleared" in run("note", ref, "").stdout


def test_hide_unhide_comment(sandbox_env: SandboxEnv) -> None:
    """hide/unhide change the comment on Facebook; a DM cannot be hidden (exit 2)."""
    _, cid, ref = new_comment(sandbox_env, "Hugo Hide")
    res = run("hide", ref)
    assert res.exit_code == 0, res.output
    sb: Any = sandbox_env.sandbox
    assert sb.comment(cid).is_hidden is True
    assert run("unhide", ref, "--json").exit_code == 0
    assert sb.comment(cid).is_hidden is False
    _, dm = new_dm(sandbox_env, "Dora Dm")
    assert run("hide", dm).exit_code == 2


def test_refs_number_graph_id_and_foreign(sandbox_env: SandboxEnv) -> None:
    """#N, N and the Graph id all name a thread; an unknown or other page's thread → exit 2."""
    _, a = new_dm(sandbox_env, "Ref Ada")
    _, b = new_dm(sandbox_env, "Ref Bo")
    _, c = new_dm(sandbox_env, "Ref Cy")
    graph_id = _show(c)["id"]
    res = run("done", a, b.lstrip("#"), graph_id, "--json")
    assert res.exit_code == 0, res.output
    assert [t["changed"] for t in json.loads(res.stdout)["threads"]] == [True, True, True]
    assert {_show(r)["status"] for r in (a, b, c)} == {"done"}
    assert run("reopen", graph_id).exit_code == 0 and _show(c)["status"] == "open"
    from socialdesk.paths import resolve_paths
    from socialdesk.store.db import open_db

    conn = open_db(resolve_paths().db_file)
    conn.execute(
        "INSERT INTO threads (id, page_id, channel, customer_id, last_message_at)"
        " VALUES ('t_other', 'other_page', 'dm', 'u9', 1)"
    )
    conn.execute("INSERT INTO thread_numbers (thread_id, page_id) VALUES ('t_other', 'other_page')")
    conn.execute(
        "INSERT INTO thread_state (thread_id, page_id, updated_at)"
        " VALUES ('t_other', 'other_page', 1)"
    )
    conn.close()
    for bad in ("t_other", "#99999", "nonsense"):
        for args in (
            ["done", a, bad],
            ["reopen", a, bad],
            ["snooze", a, bad, "--until", "2h"],
            ["tag", bad, "+x"],
            ["note", bad, "x"],
            ["hide", bad],
            ["reply", bad, "--text", "x"],
        ):
            res = run(*args)
            assert res.exit_code == 2, (args, res.output)
    assert _show(a)["status"] == "done"  # a bad ref among several changes none of them


def test_snooze_until_forms_end_to_end(sandbox_env: SandboxEnv) -> None:
    """snooze --until '2h', 'tomorrow 9:00' and an ISO time set the snooze end shown by --json."""
    from datetime import datetime

    _, ref = new_dm(sandbox_env, "Sno Ozer")
    for when in ("2h", "tomorrow 9:00", "2099-01-02T03:04+00:00"):
        res = run("snooze", ref, "--until", when, "--json")
        assert res.exit_code == 0, res.output
        until = datetime.fromisoformat(json.loads(res.stdout)["until"])
        assert until > datetime.now(UTC)
    assert until == datetime(2099, 1, 2, 3, 4, tzinfo=UTC)
    assert _show(ref)["status"] == "snoozed"
    res = run("snooze", ref, "--until", "2001-01-01T00:00")
    assert res.exit_code == 2 and "past" in res.output


def test_customer_text_printed_clean_and_literal(sandbox_env: SandboxEnv) -> None:
    """A name with escapes, markup and bidi prints cleaned and literally (outcome lines, plans)."""
    name = "\x1b]0;pwn\x07[red]Mal[/red] \u202eEvil"
    _, ref = new_dm(sandbox_env, name)
    assert run("templates", "add", "thanks", "Thanks {first_name}!").exit_code == 0
    for args in (["done", ref], ["tag", ref, "+vip"], ["reopen", ref]):
        res = run(*args)
        assert res.exit_code == 0, res.output
        assert "[red]Mal[/red] ⟨U+202E⟩Evil" in res.stdout
        assert not any(ch in res.output for ch in "\x1b\x07\u202e")
    res = run("ack", "from:Mal", "--template", "thanks", "--dry-run")
    assert "[red]Mal[/red]" in res.stdout and "\x1b" not in res.output


def test_tag_cannot_mistake_a_thread_for_a_tag(sandbox_env: SandboxEnv) -> None:
    """`tag 53 vip 38` creates no tag "38" and tags nothing: a tag is written +vip / -vip."""
    _, a = new_dm(sandbox_env, "Tia Tag")
    _, b = new_dm(sandbox_env, "Tom Tag")
    res = run("tag", a.lstrip("#"), "vip", b.lstrip("#"))
    assert res.exit_code == 2 and "+vip" in res.stderr
    assert _show(a)["tags"] == [] and _show(b)["tags"] == []
    res = run("tag", a.lstrip("#"), "+vip", b.lstrip("#"), "--json")
    assert res.exit_code == 0, res.output
    assert [t["tags"] for t in json.loads(res.stdout)["threads"]] == [["vip"], ["vip"]]


def test_tag_in_bulk_by_query(sandbox_env: SandboxEnv) -> None:
    """tag --query 'from:Zebedee' +vip tags every thread the query matches, and only those."""
    _, j1 = new_dm(sandbox_env, "Zebedee One")
    _, j2 = new_dm(sandbox_env, "Zebedee Two")
    _, other = new_dm(sandbox_env, "Jill Three")
    res = run("tag", "--query", "from:Zebedee", "+vip", "--json")
    assert res.exit_code == 0, res.output
    assert sorted(t["thread"] for t in json.loads(res.stdout)["threads"]) == sorted(
        int(r.lstrip("#")) for r in (j1, j2)
    )
    assert _show(j1)["tags"] == ["vip"] and _show(other)["tags"] == []
    assert run("tag", "-q", "from:Zebedee", "-vip").exit_code == 0
    assert _show(j2)["tags"] == []
    assert run("tag", j1, "--query", "from:Zebedee", "+x").exit_code == 2


def test_snooze_warns_when_the_window_closes_first(sandbox_env: SandboxEnv) -> None:
    """A DM whose 24-hour window closes in ~23 h, snoozed for 3 days: a warning names both
    times (stderr; JSON has it in warnings); a 1-hour snooze warns of nothing."""
    _, ref = new_dm(sandbox_env, "Wen Window", ago=timedelta(hours=1))
    res = run("snooze", ref, "--until", "1h")
    assert res.exit_code == 0 and "warning" not in res.stderr
    res = run("snooze", ref, "--until", "3d")
    assert res.exit_code == 0
    assert "warning:" in res.stderr and "after its reply window closes" in res.stderr
    data = json.loads(run("snooze", ref, "--until", "4d", "--json").stdout)
    assert len(data["warnings"]) == 1 and ref in data["warnings"][0]
