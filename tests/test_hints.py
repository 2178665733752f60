"""No hint tells the user to type an unquoted ``#N`` (a shell takes ``#`` for a comment)."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "socialdesk"
UNQUOTED_NUMBER = re.compile(r"(?<!['\"])#(\d|\{|N\b)")


def _text_of(node: ast.expr) -> str:
    """The literal text of a string or f-string (its placeholders as ``{}``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_text_of(v) if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp):
        return _text_of(node.left) + _text_of(node.right)
    if isinstance(node, ast.IfExp):
        return _text_of(node.body) + " " + _text_of(node.orelse)
    return ""


@functools.cache  # parsing the whole package is the tests' only cost: once for both
def _hints() -> tuple[tuple[str, int, str], ...]:
    found: list[tuple[str, int, str]] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "hint" not in source and path.name != "app.py":
            continue  # no `hint=` keyword can be in it: skip the parse
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "hint":
                        found.append((path.name, node.lineno, _text_of(kw.value)))
            if isinstance(node, ast.Dict) and path.name == "app.py":  # the CLI's flag advice
                found.extend((path.name, node.lineno, _text_of(v)) for v in node.values if v)
    return tuple(found)


def test_the_scan_finds_hints() -> None:
    """Hints are found, including the CLI's advice table (so an empty result means something)."""
    hints = _hints()
    assert len(hints) > 50
    assert any("--split" in text for _, _, text in hints)


def test_no_hint_suggests_an_unquoted_thread_number() -> None:
    """Every #N in a hint is quoted ('#12'), or the hint uses the bare number (12)."""
    bad = [(f, line, text) for f, line, text in _hints() if UNQUOTED_NUMBER.search(text)]
    assert bad == []
