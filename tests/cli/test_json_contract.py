"""Every command's ``--json`` output against the README's "JSON output" section, field by field.

The README's tables are parsed: each starts after a ``**name**`` line; a row's first cell names
fields (backquoted), its meaning may give a nested object's keys (``{id, name}``, or
``[{a, b}]`` for a list of them) or another table (``a list of **message**``). Each command's
real output (in-process sandbox) must hold exactly the documented fields, and every time in it
must be ISO 8601 UTC ending in ``Z``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import configure, new_comment, new_dm, run, synced
from tests.support.sandbox import SandboxEnv

README = Path(__file__).resolve().parents[2] / "README.md"
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
TIME_KEYS = {"until", "snoozed_until"}


@dataclass(frozen=True)
class Field:
    """What the README says one field holds."""

    keys: frozenset[str] | None
    """The keys of a nested object (or of each object of a list), when documented."""
    table: str | None
    """Another table the value (or each of its items) must match."""
    optional: bool = False
    """Documented as present only in some runs ("only with --watch")."""


def contract() -> dict[str, dict[str, Field]]:
    """The README's JSON tables by name."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### JSON output", 1)[1].split("\n## ", 1)[0]
    tables: dict[str, dict[str, Field]] = {}
    name: str | None = None
    for line in section.splitlines():
        head = re.match(r"^\*\*([a-z ]+)\*\*", line)
        if head:
            name = head.group(1)
            continue
        if not line.startswith("| ") or line.startswith("| field") or name is None:
            continue
        first, meaning = line.strip("|").split(" | ", 1)
        nested = re.search(r"\{([a-z_, ]+)\}", meaning)
        ref = re.search(r"a list of \*\*([a-z ]+)\*\*", meaning)
        field = Field(
            frozenset(k.strip() for k in nested.group(1).split(",")) if nested else None,
            ref.group(1) if ref else None,
            "(only with" in meaning,
        )
        for key in re.findall(r"`([a-z_]+)`", first):
            tables.setdefault(name, {})[key] = field
    return tables


CONTRACT = contract()


def check(value: Any, name: str) -> None:
    """``value`` holds exactly the fields of table ``name``, recursively."""
    spec = CONTRACT[name]
    assert isinstance(value, dict), (name, value)
    required = {k for k, f in spec.items() if not f.optional}
    assert required <= set(value) <= set(spec), (name, sorted(set(value) ^ set(spec)))
    for key, field in spec.items():
        if key not in value:
            continue
        got = value[key]
        items = got if isinstance(got, list) else [got]
        for item in items:
            if field.table is not None:
                check(item, field.table)
            elif field.keys is not None and item is not None:
                assert isinstance(item, dict) and set(item) == field.keys, (name, key, item)


def times_are_iso_z(value: Any, key: str = "") -> None:
    """Every ``*_at``/``until`` value anywhere in ``value`` is null or ``…Z``."""
    if isinstance(value, dict):
        for k, v in value.items():
            times_are_iso_z(v, k)
    elif isinstance(value, list):
        for v in value:
            times_are_iso_z(v, key)
    elif key.endswith("_at") or key in TIME_KEYS:
        assert value is None or (isinstance(value, str) and ISO_Z.match(value)), (key, value)


def test_the_readme_documents_every_table_used_here() -> None:
    """The parse finds the tables (so the checks below compare against something)."""
    for name in ("list", "thread", "show", "message", "reply", "outbox entry", "ack report"):
        assert name in CONTRACT, name
    assert CONTRACT["list"]["threads"].table == "thread"
    assert CONTRACT["thread"]["window"].keys == frozenset({"kind", "closes_at", "closed_at"})


@pytest.fixture
def world(sandbox_env: SandboxEnv) -> SandboxEnv:
    configure(sandbox_env)
    assert run("templates", "add", "thanks", "Thanks {first_name}!").exit_code == 0
    synced(sandbox_env)
    return sandbox_env


def _json(*args: str, code: int = 0) -> Any:
    import json

    res = run(*args, "--json")
    assert res.exit_code == code, (args, res.output)
    data = json.loads(res.stdout)
    times_are_iso_z(data)
    return data


def test_read_commands(world: SandboxEnv) -> None:
    """list, show (DM and comment), count and sync."""
    check(_json("list", "", "--limit", "3"), "list")
    _, _, comment = new_comment(world, "Cora Contract")
    check(_json("show", comment), "show")
    _, dm = new_dm(world, "Dina Contract")
    check(_json("show", dm, "--limit", "1"), "show")
    check(_json("count", "is:dm"), "count")
    check(_json("sync"), "sync")


def test_reply_and_triage(world: SandboxEnv) -> None:
    """reply (sent and refused), and every triage command."""
    _, dm = new_dm(world, "Rex Contract")
    check(_json("reply", dm, "--text", "on it", "--done"), "reply")
    check(_json("reply", dm, "--text", "again", "--private", code=2), "reply")
    for args in (
        ("done", dm),
        ("reopen", dm),
        ("snooze", dm, "--until", "2h"),
        ("tag", dm, "+vip"),
        ("note", dm, "called"),
    ):
        check(_json(*args), "triage")
    _, _, comment = new_comment(world, "Hal Contract")
    check(_json("hide", comment), "triage")


def test_outbox(world: SandboxEnv) -> None:
    """outbox rows and a resolution."""
    user, dm = new_dm(world, "Bea Contract")
    world.sandbox.block_user(user)
    assert run("reply", dm, "--text", "hello").exit_code == 6
    rows = _json("outbox", "--all")
    assert rows
    for row in rows:
        check(row, "outbox row")
    check(_json("outbox", "resolve", str(rows[-1]["id"]), "--drop"), "outbox resolution")


def test_ack(world: SandboxEnv) -> None:
    """An ack plan and an ack report."""
    new_dm(world, "Ack Contract")
    check(_json("ack", "from:Contract", "--template", "thanks", "--dry-run"), "ack plan")
    check(_json("ack", "from:Contract", "--template", "thanks", "--yes"), "ack report")


def test_setup_commands(world: SandboxEnv) -> None:
    """doctor, auth status, pages and templates."""
    check(_json_any("doctor"), "doctor")
    check(_json_any("auth", "status"), "auth status")
    for page in _json("pages"):
        check(page, "page")
    check(_json("templates", "show", "thanks"), "template")
    for template in _json("templates"):
        check(template, "template")


def _json_any(*args: str) -> Any:
    """A ``--json`` command whose exit code depends on the environment (doctor, auth status)."""
    import json

    res = run(*args, "--json")
    data = json.loads(res.stdout)
    times_are_iso_z(data)
    return data
