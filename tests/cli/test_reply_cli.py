"""`socialdesk reply` end to end against the loopback sandbox (sandbox_env)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import configure, deliveries, new_comment, new_dm, run, synced
from tests.support.sandbox import SandboxEnv


def test_reply_text_sends_once(sandbox_env: SandboxEnv) -> None:
    """--text sends one RESPONSE, prints one line; --json gives the outbox entry."""
    user, ref = new_dm(sandbox_env, "Rita Reply")
    res = run("reply", ref, "--text", "Hi Rita, on it!")
    assert res.exit_code == 0, res.output
    assert res.stdout.count("\n") == 1 and res.stdout.startswith(f"sent reply to {ref}")
    (d,) = deliveries(sandbox_env, user)
    assert d.text == "Hi Rita, on it!" and d.messaging_type == "RESPONSE"
    _user2, ref2 = new_dm(sandbox_env, "Jason Json")
    res = run("reply", ref2, "--text", "ok", "--json", "--done")
    data = json.loads(res.stdout)
    assert data["sent"][0]["state"] == "sent" and data["kind"] == "dm_response"
    shown = json.loads(run("show", ref2, "--json").stdout)
    assert shown["status"] == "done"


def test_reply_template_renders(sandbox_env: SandboxEnv) -> None:
    """--template fills placeholders for this customer."""
    assert run("templates", "add", "hello", "Hello {first_name}!").exit_code == 0
    user, ref = new_dm(sandbox_env, "Tina Template")
    assert run("reply", ref, "--template", "hello").exit_code == 0
    assert deliveries(sandbox_env, user)[0].text == "Hello Tina!"
    res = run("reply", ref, "--template", "nope")
    assert res.exit_code == 2 and "no template named" in res.output


def test_text_rules(sandbox_env: SandboxEnv) -> None:
    """Empty → 2; too long → 6 (nothing sent); --split sends parts; bidi → 6."""
    user, ref = new_dm(sandbox_env, "Lena Long")
    assert run("reply", ref, "--text", "   ").exit_code == 2
    long = "word " * 500
    res = run("reply", ref, "--text", long)
    assert res.exit_code == 6 and "--split" in res.output
    assert run("reply", ref, "--text", "evil \u202e text").exit_code == 6
    assert deliveries(sandbox_env, user) == []
    res = run("reply", ref, "--text", long, "--split")
    assert res.exit_code == 0, res.output
    assert len(deliveries(sandbox_env, user)) == 2
    assert run("reply", ref).exit_code == 2  # no text source
    assert run("reply", ref, "--text", "a", "--edit").exit_code == 2


def test_unknown_and_foreign_threads(sandbox_env: SandboxEnv) -> None:
    """An unknown number and a thread of another page are usage errors; nothing is sent."""
    synced(sandbox_env)
    res = run("reply", "#99999", "--text", "hi")
    assert res.exit_code == 2 and "no thread #99999" in res.output
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
    res = run("reply", "t_other", "--text", "hi")
    assert res.exit_code == 2 and "belongs to page" in res.output


def test_closed_window_exit_6(sandbox_env: SandboxEnv) -> None:
    """A DM outside 24 h (human_agent off) is refused with exit 6 and the closing time."""
    user, ref = new_dm(sandbox_env, "Olga Old", ago=timedelta(hours=30))
    res = run("reply", ref, "--text", "sorry")
    assert res.exit_code == 6 and "closed at" in res.output
    assert deliveries(sandbox_env, user) == []


def test_api_refusal_and_invalid_token(sandbox_env: SandboxEnv) -> None:
    """A blocked customer: exit 6 with the API's reason; an invalid token: exit 3, nothing sent."""
    _user, ref = new_dm(sandbox_env, "Bea Blocked", blocked=True)
    res = run("reply", ref, "--text", "hi")
    assert res.exit_code == 6 and "available" in res.output
    out = json.loads(run("outbox", "--json").stdout)
    assert [r["state"] for r in out] == ["failed"]
    user2, ref2 = new_dm(sandbox_env, "Tom Token")
    sandbox_env.sandbox.invalidate_token(sandbox_env.token)
    res = run("reply", ref2, "--text", "hi")
    assert res.exit_code == 3
    assert deliveries(sandbox_env, user2) == []


def test_private_reply_once(sandbox_env: SandboxEnv) -> None:
    """--private works once per comment; the second is refused (exit 6); --private on a DM → 2."""
    user, cid, ref = new_comment(sandbox_env, "Paula Private")
    assert run("reply", ref, "--text", "sent you the price", "--private").exit_code == 0
    (d,) = deliveries(sandbox_env, user)
    assert d.comment_id == cid
    res = run("reply", ref, "--text", "again", "--private")
    assert res.exit_code == 6 and "already used" in res.output
    assert run("reply", ref, "--text", "public answer").exit_code == 0
    _, dm_ref = new_dm(sandbox_env, "Dan Dm")
    assert run("reply", dm_ref, "--text", "x", "--private").exit_code == 2


def test_private_reply_names_its_recipient_and_takes_comment(sandbox_env: SandboxEnv) -> None:
    """Bob replied under Ann's comment: --private answers Bob (named in the confirmation),
    --comment ID answers Ann; --comment without --private is a usage error (2)."""
    sb = sandbox_env.sandbox
    ann, bob = sb.add_user("Ann Top"), sb.add_user("Bob Below")
    post = sb.add_post(sandbox_env.page_id, "Sale", at=sb.now() - timedelta(hours=3))
    top = sb.add_comment(post, ann, "red?", at=sb.now() - timedelta(hours=2))
    below = sb.add_comment(post, bob, "blue?", at=sb.now() - timedelta(hours=1), parent_id=top)
    ref = next(f"#{t['number']}" for t in synced(sandbox_env) if t["id"] == top)
    shown = json.loads(run("show", ref, "--json").stdout)
    assert {m["id"] for m in shown["messages"]} >= {top, below}
    res = run("reply", ref, "--text", "blue is in", "--private")
    assert res.exit_code == 0, res.output
    assert "Bob Below, privately" in res.stdout and "Ann" not in res.stdout
    assert [d.comment_id for d in deliveries(sandbox_env, bob)] == [below]
    res = run("reply", ref, "--text", "red too", "--private", "--comment", top, "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["sent"][0]["comment_id"] == top and data["recipient"].startswith("Ann Top")
    assert [d.comment_id for d in deliveries(sandbox_env, ann)] == [top]
    bad = run("reply", ref, "--text", "x", "--comment", top)
    assert bad.exit_code == 2 and "--private" in bad.output
    wrong = run("reply", ref, "--text", "x", "--private", "--comment", "nope_1")
    assert wrong.exit_code == 2 and "--comment" in wrong.output


def _editor(tmp_path: Path, body: str, rc: int = 0, *, keep_scissors: bool = True) -> str:
    """A fake editor: records the file's mode and text, writes ``body`` above what it found
    (or, without ``keep_scissors``, replaces the whole file with ``body``), exits ``rc``."""
    (tmp_path / "body").write_text(body)
    rest = '"$1.orig"' if keep_scissors else "/dev/null"
    script = tmp_path / "fake-editor.sh"
    script.write_text(
        "#!/bin/sh\n"
        f'stat -c %a "$1" > "{tmp_path}/mode"\n'
        f'cp "$1" "{tmp_path}/seen"\n'
        'cp "$1" "$1.orig"\n'
        f'cat "{tmp_path}/body" {rest} > "$1"\n'
        'rm -f "$1.orig"\n'
        f"exit {rc}\n"
    )
    script.chmod(0o700)
    return str(script)


def test_edit_sends_composed_text(
    sandbox_env: SandboxEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--edit: a 0600 file with the thread quoted below a scissors line; everything above it is
    sent as written, lines starting with # included; the text, its length and the window are
    shown (stderr) before it goes."""
    user, ref = new_dm(sandbox_env, "Ed Editor")
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "#1043 ships Monday\n# from the warehouse\n"))
    res = run("reply", ref, "--edit")
    assert res.exit_code == 0, res.output
    assert deliveries(sandbox_env, user)[0].text == "#1043 ships Monday\n# from the warehouse"
    assert (tmp_path / "mode").read_text().strip() == "600"
    seen = (tmp_path / "seen").read_text()
    assert "# Customer: Ed Editor" in seen and "#   hello there" in seen
    assert "  | #1043 ships Monday" in res.stderr and "to: Ed Editor" in res.stderr
    assert "39/2000 characters · window: 23h" in res.stderr


def test_edit_without_the_scissors_line_sends_nothing(
    sandbox_env: SandboxEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose scissors line was deleted is refused (what to drop would be a guess)."""
    user, ref = new_dm(sandbox_env, "Sid Scissors")
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "my reply\n# Ed wrote:\n", keep_scissors=False))
    res = run("reply", ref, "--edit")
    assert res.exit_code == 2 and "scissors line" in res.stderr
    assert deliveries(sandbox_env, user) == []


@pytest.mark.parametrize(
    ("body", "rc", "msg"), [("text", 1, "exited with status 1"), ("", 0, "empty")]
)
def test_edit_cancelled(
    sandbox_env: SandboxEnv,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    body: str,
    rc: int,
    msg: str,
) -> None:
    """An editor failing or leaving no text sends nothing (exit 2)."""
    user, ref = new_dm(sandbox_env, "Cancel Carl")
    monkeypatch.setenv("VISUAL", _editor(tmp_path, body, rc))
    res = run("reply", ref, "--edit")
    assert res.exit_code == 2 and msg in res.output
    assert deliveries(sandbox_env, user) == []


def test_closed_window_message_shows_the_time(sandbox_env: SandboxEnv) -> None:
    """The exit-6 refusal names the UTC time the 24-hour window closed (last message + 24 h)."""
    import re
    from datetime import UTC, datetime

    _user, ref = new_dm(sandbox_env, "Tim Time", ago=timedelta(hours=30))
    res = run("reply", ref, "--text", "sorry")
    assert res.exit_code == 6
    m = re.search(r"closed at (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC", res.output)
    assert m is not None, res.output
    closed = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    expected = sandbox_env.sandbox.now() - timedelta(hours=6)
    assert abs((closed - expected).total_seconds()) < 120


def test_human_agent_only_when_enabled(sandbox_env: SandboxEnv) -> None:
    """human_agent on: a 30 h DM gets MESSAGE_TAG+HUMAN_AGENT; past 7 d → 6; ack never uses it."""
    configure(sandbox_env, "[messaging]\nhuman_agent = true\n")
    sb: Any = sandbox_env.sandbox
    sb.set_human_agent(sandbox_env.page_id, True)
    user, ref = new_dm(sandbox_env, "Hana Human", ago=timedelta(hours=30))
    res = run("reply", ref, "--text", "Sorry for the wait, Hana", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["kind"] == "dm_human_agent"
    (d,) = deliveries(sandbox_env, user)
    assert (d.messaging_type, d.tag) == ("MESSAGE_TAG", "HUMAN_AGENT")
    _old, old_ref = new_dm(sandbox_env, "Otto Old", ago=timedelta(days=8))
    res = run("reply", old_ref, "--text", "hi")
    assert res.exit_code == 6 and " UTC" in res.output
    assert run("templates", "add", "thanks", "Thanks {first_name}!").exit_code == 0
    new_dm(sandbox_env, "Ada Ack", ago=timedelta(hours=30))
    out = json.loads(run("ack", "from:Ada", "--template", "thanks", "--yes", "--json").stdout)
    assert out["sent"] == 0 and out["skipped_by_reason"] == {"outside_window": 1}


def test_sandbox_refuses_human_agent_without_the_feature(sandbox_env: SandboxEnv) -> None:
    """Rules allow HUMAN_AGENT but the Page lacks the feature: failed, with the API's reason."""
    configure(sandbox_env, "[messaging]\nhuman_agent = true\n")
    user, ref = new_dm(sandbox_env, "Nia Nofeature", ago=timedelta(hours=30))
    res = run("reply", ref, "--text", "hello")
    assert res.exit_code == 3 and "Human Agent" in res.output  # Graph code 200: a permission
    (row,) = json.loads(run("outbox", "--json").stdout)
    assert row["state"] == "failed" and "Human Agent" in row["error"]
    assert deliveries(sandbox_env, user) == []


def test_edit_quote_is_sanitised_and_cannot_inject(
    sandbox_env: SandboxEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quoted customer text has no control bytes, cannot leave its # line, sets no modeline."""
    sb: Any = sandbox_env.sandbox
    user = sb.add_user("Eve vim: set ft=sh:")
    evil = (
        "hi\u2028Refund approved: 100 EUR\u2029P.S.\x85NEL line\rCR line\x0bVT line"
        "\x1b[31mred\x1b]0;pwned\x07 \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ \u202eevil\n"
        ' vim: set shell=/tmp/x:\n-*- eval: (shell-command "x") -*-\nLocal Variables:'
    )
    sb.add_message(sandbox_env.page_id, user, evil, at=sb.now() - timedelta(minutes=1))
    ref = next(f"#{t['number']}" for t in synced(sandbox_env) if t["customer"]["id"] == user)
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "My own reply"))
    res = run("reply", ref, "--edit")
    assert res.exit_code == 0, res.output
    assert [d.text for d in deliveries(sandbox_env, user)] == ["My own reply"]
    seen = (tmp_path / "seen").read_text()
    assert not any(ch in seen for ch in "\x1b\x07\x85\r\x0b\u2028\u2029\u202e")
    assert "⟨U+202E⟩" in seen and "Refund approved" in seen
    lines = seen.split("\n")
    assert all(line == "" or line.startswith("#") for line in lines)
    assert lines[1] == "# ------------------------ >8 ------------------------"
    import re

    modeline = re.compile(r"(^|\s)(vim?|ex)[<=>]?\d*:|-\*-|local variables:", re.IGNORECASE)
    assert not any(modeline.search(line) for line in lines), seen
    own = lines[:6] + lines[-6:]
    assert not any("Eve" in line or "set" in line for line in own), own


def test_after_a_reply_the_local_state_is_true_at_once(sandbox_env: SandboxEnv) -> None:
    """No sync after `reply --done`: it says the thread is now done; `show` has the reply
    (pending read-back) and `list` no longer offers the thread; a sync reads it back once."""
    _user, ref = new_dm(sandbox_env, "Lou Local")
    res = run("reply", ref, "--text", "Shipped today!", "--done")
    assert res.exit_code == 0, res.output
    assert res.stdout.rstrip().endswith(f"; {ref} is now done")
    shown = json.loads(run("show", ref, "--json").stdout)
    last = shown["messages"][-1]
    assert (last["direction"], last["text"], last["pending_read_back"]) == (
        "out",
        "Shipped today!",
        True,
    )
    assert shown["awaiting_reply"] is False and shown["status"] == "done"
    listed = json.loads(run("list", "--json").stdout)["threads"]
    assert ref.lstrip("#") not in {str(t["number"]) for t in listed}
    assert "(sent; not read back yet)" in run("show", ref).stdout
    assert run("sync").exit_code == 0
    again = json.loads(run("show", ref, "--json").stdout)["messages"]
    assert [m["text"] for m in again].count("Shipped today!") == 1
    assert again[-1]["pending_read_back"] is False
