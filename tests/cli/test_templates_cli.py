"""`socialdesk templates` list/show/add, with placeholder validation."""

from __future__ import annotations

import json

from socialdesk.paths import resolve_paths
from tests.support.cli import run


def test_add_list_show() -> None:
    """add writes the config (0600); list and show read it back."""
    res = run("templates", "add", "thanks", "Thanks {first_name}!", "Hi {name} from {page}")
    assert res.exit_code == 0, res.output
    cfg = resolve_paths().config_file
    assert cfg.stat().st_mode & 0o777 == 0o600
    assert "thanks: Thanks {first_name}! (+1 variant)" in run("templates").stdout
    shown = json.loads(run("templates", "show", "thanks", "--json").stdout)
    assert shown["variants"] == ["Thanks {first_name}!", "Hi {name} from {page}"]
    assert run("templates", "show", "nope").exit_code == 2


def test_add_refuses_bad_placeholder_and_duplicates() -> None:
    """A typo'd placeholder is refused (exit 2, config untouched); re-adding needs --replace."""
    res = run("templates", "add", "oops", "Hi {frist_name}")
    assert res.exit_code == 2 and "{frist_name}" in res.output
    assert not resolve_paths().config_file.exists()
    assert run("templates", "add", "a", "one").exit_code == 0
    assert run("templates", "add", "a", "two").exit_code == 2
    assert run("templates", "add", "a", "two", "--replace").exit_code == 0
    assert json.loads(run("templates", "show", "a", "--json").stdout)["variants"] == ["two"]


def test_typo_in_config_refused_at_load() -> None:
    """A hand-written template with an unknown placeholder makes the config load fail (exit 2)."""
    cfg = resolve_paths().config_file
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text('[templates.thanks]\ntext = ["Hi {frist_name}"]\n')
    res = run("templates")
    assert res.exit_code == 2 and "frist_name" in res.output


def test_add_refuses_bidi_and_control_characters() -> None:
    """A variant with a bidi override or an escape byte is refused at add time (exit 2)."""
    for text in ("Thanks \u202e{first_name}", "Hi\x1b[31m {name}"):
        res = run("templates", "add", "evil", text)
        assert res.exit_code == 2 and "U+" in res.output, res.output
    assert not resolve_paths().config_file.exists()
    assert run("templates", "add", "ok", "Two\nlines\tfine {page}").exit_code == 0
