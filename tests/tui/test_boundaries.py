"""The inbox's two seams, checked statically over ``socialdesk/tui``:

1. Only ``tui/gateway.py`` imports the layers below the UI, and of them only ``core``
   (``tests/test_layers.py`` forbids ``store``/``api``/``sqlite3``/``httpx`` in all of ``tui``);
   only ``tui/text.py`` imports ``sanitize``.
   Other modules may use ``models`` and ``errors`` (shared vocabulary), and type-only imports.
2. Customer text reaches Textual only through ``tui/text.py``: no other module builds a
   ``Content``/``Text`` from a string (``Content(...)``, ``Content.styled``, ``from_markup``,
   ``Text.from_ansi`` …), ``Content.assemble`` is given no raw strings, and every read of a
   field that holds customer or API text (a customer's or author's name, snippets, message
   and post texts, notes, tags, errors, attachment names, view titles) flows into
   ``text.customer``/``customer_plain``/``customer_lines`` — or is only tested, measured or
   handed on as data (a comparison, ``len``, a gateway call, a message to another handler).
"""

from __future__ import annotations

import ast
from pathlib import Path

TUI = Path(__file__).resolve().parents[2] / "socialdesk" / "tui"
MODULES = sorted(TUI.rglob("*.py"))

BELOW = ("core", "store", "api", "config", "secrets", "paths", "sandbox", "sanitize")
SHARED = ("models", "errors")


def _rel(path: Path) -> str:
    return str(path.relative_to(TUI))


def _runtime_imports(tree: ast.Module) -> list[tuple[str, int]]:
    """Imported modules outside ``if TYPE_CHECKING:`` blocks."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for orelse in child.orelse:
                    visit(orelse)
                continue
            if isinstance(child, ast.Import):
                found.extend((a.name, child.lineno) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.append((child.module, child.lineno))
            visit(child)

    visit(tree)
    return found


def test_only_the_gateway_reaches_below_the_ui() -> None:
    offenders = []
    for path in MODULES:
        rel = _rel(path)
        for module, line in _runtime_imports(ast.parse(path.read_text())):
            parts = module.split(".")
            if parts[0] != "socialdesk" or len(parts) < 2 or parts[1] in ("tui", *SHARED):
                continue
            allowed = rel == "gateway.py" or (rel == "text.py" and parts[1] == "sanitize")
            if parts[1] in BELOW and not allowed:
                offenders.append(f"{rel}:{line} imports {module}")
    assert offenders == []


def test_the_scan_sees_the_gateway_imports() -> None:
    """The scan is not vacuous: it sees the gateway's imports of the application layer."""
    gateway = ast.parse((TUI / "gateway.py").read_text())
    assert any(m.startswith("socialdesk.core") for m, _ in _runtime_imports(gateway))


# ---- customer text ----------------------------------------------------------------------------

BUILDERS = {
    ("Content", None),
    ("Content", "styled"),
    ("Content", "from_markup"),
    ("Content", "from_text"),
    ("Content", "from_rich_text"),
    ("Text", None),
    ("Text", "from_markup"),
    ("Text", "from_ansi"),
    ("Text", "assemble"),
}
"""Ways to make Textual text from a string: only text.py may call them (``Content("\\n")``
used as a joiner, a literal, is the one exception)."""

SINKS = {"customer", "customer_plain", "customer_lines"}
"""text.py's helpers: customer text must flow into one of them."""

FIELDS = {
    "snippet",
    "post_message",
    "note",
    "tags",
    "hint",
    "reason",
    "next_step",
    "recipient",
    "error",
    "title",
    "permalink",
    "url",
}
"""Attributes holding customer/API text wherever they appear (``.message``, ``.text`` and
``.name`` are checked only on the objects that hold customer text, see :func:`_is_field`)."""

HAND_OVERS = {"TagPrompt", "NotePrompt", "Draft", "open_for", "load_text", "set_text", "insert"}
"""Calls that take the text as data: prompts that clean it when drawn, and the compose box's
``TextArea`` (which draws plain text, never markup; it holds the operator's own draft)."""

CUSTOMER_OBJECTS = {"customer", "author", "m", "e", "a", "target", "post", "exc", "err", "d", "o"}


def _is_field(node: ast.Attribute) -> bool:
    if node.attr in FIELDS:
        return True
    if node.attr in ("name", "text", "message"):
        base = node.value
        base_name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
        return base_name in CUSTOMER_OBJECTS
    return False


def _call_name(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")


def _harmless(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Whether the value read at ``node`` ends in a sink, a test, a measure or a hand-over."""
    child, cur = node, parents.get(node)
    while cur is not None:
        if isinstance(cur, ast.Call):
            name = _call_name(cur)
            if name in SINKS:
                return True
            if name in ("len", "bool", "isinstance", "startswith"):
                return True
            if isinstance(cur.func, ast.Attribute):
                owner = ast.unparse(cur.func.value)
                # Handed to the gateway, or posted as data to a handler that cleans it.
                if owner.startswith("self.gw") or owner in ("msg", "self.gw"):
                    return True
            if name in HAND_OVERS or name.endswith(("Loaded", "Done", "Failed", "Requested")):
                return True
            if cur.func is child:  # a method of the text (.strip(), .split()): follow it
                return _harmless(cur, parents)
        if isinstance(cur, ast.Compare | ast.If | ast.While | ast.Assert):
            return True
        if isinstance(cur, ast.IfExp) and cur.test is child:
            return True
        if isinstance(cur, ast.comprehension) and child in cur.ifs:
            return True
        if isinstance(cur, ast.BoolOp) and isinstance(parents.get(cur), ast.If):
            return True
        if isinstance(cur, ast.stmt):
            if isinstance(cur, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.Return):
                return _assigned_safely(cur)
            return False
        child, cur = cur, parents.get(cur)
    return False


def _assigned_safely(stmt: ast.stmt) -> bool:
    """An assignment keeps the value as data only when it goes to a state attribute (self.x)
    or is returned by a function whose result is checked where it is used; plain locals must be
    cleaned where they are read, so they count as unsafe here."""
    if isinstance(stmt, ast.Return):
        return False
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]  # type: ignore[attr-defined]
    return all(isinstance(t, ast.Attribute | ast.Subscript) for t in targets)


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    parents = {c: p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    rel = _rel(path)
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            key: tuple[str, str | None] | None = None
            if isinstance(f, ast.Name) and f.id in ("Content", "Text"):
                key = (f.id, None)
            elif (
                isinstance(f, ast.Attribute)
                and isinstance(f.value, ast.Name)
                and f.value.id in ("Content", "Text")
            ):
                key = (f.value.id, f.attr)
            literal_joiner = (
                key == ("Content", None)
                and len(node.args) == 1
                and isinstance(node.args[0], ast.Constant)
            )
            if key in BUILDERS and not literal_joiner:
                out.append(f"{rel}:{node.lineno} builds text with {ast.unparse(f)}")
            if key == ("Content", "assemble"):
                for arg in node.args:
                    if isinstance(arg, ast.Constant | ast.JoinedStr | ast.Tuple):
                        out.append(f"{rel}:{node.lineno} gives assemble a raw string")
        parent = parents.get(node)
        called = isinstance(parent, ast.Call) and parent.func is node
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Load)
            and not called
            and _is_field(node)
            and not _harmless(node, parents)
        ):
            out.append(f"{rel}:{node.lineno} shows {ast.unparse(node)} without text.py")
    return out


def test_customer_text_reaches_textual_only_through_text_py() -> None:
    offenders = [
        v
        for path in MODULES
        if _rel(path) not in ("text.py", "gateway.py", "keys.py")
        for v in _violations(path)
    ]
    assert offenders == []


def test_the_text_check_catches_a_raw_name(tmp_path: Path) -> None:
    """The check is not vacuous: a widget showing a customer's name as a str is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def show(label, th):\n"
        "    label.update(th.customer.name)\n"
        "    label.update(Content(th.snippet))\n"
        "    label.update(customer(th.customer.name))\n"
    )
    found = _violations_at(bad)
    assert len([v for v in found if "shows" in v]) == 2
    assert any("builds text with Content" in v for v in found)


def _violations_at(path: Path) -> list[str]:
    global TUI
    saved = TUI
    TUI = path.parent
    try:
        return _violations(path)
    finally:
        TUI = saved
