"""The layer arrows of ARCHITECTURE.md, enforced by a static import scan and a runtime check."""

from __future__ import annotations

import ast
import functools
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "socialdesk"

UI = ("textual", "typer", "rich")


@dataclass(frozen=True)
class Import:
    """One import statement found in a module."""

    module: str
    """The module that imports (dotted)."""
    target: str
    """The imported module (dotted, absolute)."""
    in_function: bool
    line: int


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    if level == 0:
        return name or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def _imports(path: Path) -> list[Import]:
    module = _module_name(path)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(Import(module, alias.name, in_function, child.lineno))
            elif isinstance(child, ast.ImportFrom):
                target = _resolve(module, is_package, child.level, child.module)
                found.append(Import(module, target, in_function, child.lineno))
                # `from socialdesk import tui` imports the submodule socialdesk.tui.
                for alias in child.names:
                    found.append(
                        Import(module, f"{target}.{alias.name}", in_function, child.lineno)
                    )
            visit(child, inner)

    visit(tree, False)
    return found


@functools.cache
def all_imports() -> tuple[Import, ...]:
    """Every import in the package, parsed once per process and only by the tests that read it
    (at module level, every xdist worker paid for it while collecting)."""
    return tuple(imp for path in sorted(PACKAGE.rglob("*.py")) for imp in _imports(path))


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _top(target: str) -> str:
    return target.split(".")[0]


def _is(target: str, *prefixes: str) -> bool:
    return any(target == p or target.startswith(p + ".") for p in prefixes)


def _violations(layers: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{imp.module}:{imp.line} imports {imp.target}"
        for imp in all_imports()
        if _layer(imp.module) in layers and _is(imp.target, *forbidden)
    ]


def test_the_scan_sees_imports() -> None:
    """The scanner finds known imports (so an empty result below means something)."""
    targets = {(i.module, i.target) for i in all_imports()}
    assert ("socialdesk.cli.app", "typer") in targets
    assert ("socialdesk.config", "socialdesk.paths") in targets
    assert any(
        i.module == "socialdesk.cli.app" and i.target == "socialdesk.tui" for i in all_imports()
    )


NON_UI = (
    "api",
    "store",
    "core",
    "models",
    "sandbox",
    "errors",
    "paths",
    "config",
    "secrets",
    "format",
)


@pytest.mark.parametrize("layer", NON_UI)
def test_non_ui_layers_never_import_ui_libraries(layer: str) -> None:
    """api/store/core/models/sandbox/errors/paths/config/secrets/format: no textual/typer/rich."""
    assert _violations((layer,), UI) == []


def test_sanitize_imports_no_ui_library() -> None:
    """sanitize stays pure standard library: not even rich."""
    assert _violations(("sanitize",), UI) == []


def test_api_is_independent_of_store_core_and_ui() -> None:
    """api never imports store, core, cli or tui."""
    forbidden = tuple(f"socialdesk.{x}" for x in ("store", "core", "cli", "tui"))
    assert _violations(("api",), forbidden) == []


def test_store_is_independent_of_api_core_and_ui() -> None:
    """store never imports api, core, cli or tui."""
    forbidden = tuple(f"socialdesk.{x}" for x in ("api", "core", "cli", "tui"))
    assert _violations(("store",), forbidden) == []


def test_core_never_imports_the_ui() -> None:
    """core never imports cli or tui."""
    assert _violations(("core",), ("socialdesk.cli", "socialdesk.tui")) == []


def test_foundations_import_only_foundations() -> None:
    """config/secrets/sanitize/paths/errors/models/format import nothing above them."""
    above = tuple(f"socialdesk.{x}" for x in ("api", "store", "core", "cli", "tui", "sandbox"))
    layers = ("config", "secrets", "sanitize", "paths", "errors", "models", "format")
    assert _violations(layers, above) == []


def test_sandbox_imports_no_other_socialdesk_layer() -> None:
    """The sandbox is self-contained (standard library and httpx)."""
    others = tuple(
        f"socialdesk.{x}" for x in ("api", "store", "core", "cli", "tui", "config", "secrets")
    )
    assert _violations(("sandbox",), others) == []


def test_only_tui_imports_textual() -> None:
    """textual is imported by socialdesk.tui and nothing else."""
    offenders = [
        f"{imp.module}:{imp.line}"
        for imp in all_imports()
        if _top(imp.target) == "textual" and _layer(imp.module) != "tui"
    ]
    assert offenders == []


def test_cli_imports_tui_only_inside_a_function() -> None:
    """The CLI imports the inbox lazily, so other commands never load Textual."""
    offenders = [
        f"{imp.module}:{imp.line}"
        for imp in all_imports()
        if _layer(imp.module) == "cli" and _is(imp.target, "socialdesk.tui") and not imp.in_function
    ]
    assert offenders == []


def test_tui_reaches_below_only_through_core() -> None:
    """tui imports neither socialdesk.store nor socialdesk.api, nor sqlite3 or httpx: the inbox
    calls the application layer (core) like the CLI does."""
    forbidden = ("socialdesk.store", "socialdesk.api", "sqlite3", "httpx")
    assert _violations(("tui",), forbidden) == []


KNOWN_STORE_IMPORTS: set[str] = set()
"""CLI modules still importing the store, each with who removes the import (none left)."""


def test_cli_imports_neither_the_store_nor_sqlite3() -> None:
    """cli calls core for everything: it imports no socialdesk.store module and no sqlite3."""
    offenders = [
        f"{imp.module}:{imp.line} imports {imp.target}"
        for imp in all_imports()
        if _layer(imp.module) == "cli"
        and imp.module not in KNOWN_STORE_IMPORTS
        and _is(imp.target, "sqlite3", "socialdesk.store")
    ]
    assert offenders == []


# SQL written as a string: a statement's shape, not a word ("PRAGMA integrity_check: ok" in a
# sentence is not SQL).
_SQL = re.compile(
    r"\b(SELECT\b[\s\S]*\bFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM"
    r"|CREATE\s+(TABLE|INDEX|TRIGGER)|PRAGMA\s+\w+\s*(=|\(|$))"
)
_EXECUTE = {"execute", "executemany", "executescript"}
KNOWN_SQL: set[str] = set()
"""Modules outside store/ still holding SQL, each with who removes it."""


def _sql_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in _EXECUTE:
                found.append(f"{node.lineno}: .{node.func.attr}(")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _SQL.search(node.value)
        ):
            found.append(f"{node.lineno}: {node.value[:40]!r}")
    return found


def test_the_sql_scan_finds_sql() -> None:
    """The scanner sees the store's SQL (so an empty result below means something)."""
    assert _sql_in(PACKAGE / "store" / "threads.py")
    assert _sql_in(PACKAGE / "store" / "outbox.py")


@pytest.mark.parametrize("layer", ["core", "cli"])
def test_only_the_store_holds_sql(layer: str) -> None:
    """No .execute( and no SQL statement in core/ or cli/: the store owns all SQL."""
    offenders = {
        str(p.relative_to(PACKAGE.parent)): _sql_in(p)
        for p in sorted((PACKAGE / layer).rglob("*.py"))
        if str(p.relative_to(PACKAGE.parent)) not in KNOWN_SQL
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def _loaded_after(code: str) -> set[str]:
    script = code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return set(result.stdout.split())


def test_importing_api_store_core_loads_no_ui_library() -> None:
    """At runtime, importing socialdesk.api/store/core modules loads no typer, rich or textual."""
    modules = sorted(
        _module_name(p)
        for layer in ("api", "store", "core", "models.py", "config.py", "secrets.py", "sanitize.py")
        for p in (
            [PACKAGE / layer] if layer.endswith(".py") else sorted((PACKAGE / layer).rglob("*.py"))
        )
    )
    loaded = _loaded_after("\n".join(f"import {m}" for m in modules))
    assert {m for m in loaded if _top(m) in UI} == set()


def test_cli_help_does_not_load_textual() -> None:
    """`import socialdesk.cli` and rendering --help never load Textual."""
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "import socialdesk.cli as cli\n"
        "r = CliRunner().invoke(cli.app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "for sub in ('sync', 'list', 'doctor', 'auth'):\n"
        "    if sub in r.output:\n"
        "        assert CliRunner().invoke(cli.app, [sub, '--help']).exit_code == 0\n"
    )
    loaded = _loaded_after(code)
    assert "socialdesk.cli" in loaded
    assert not any(_top(m) == "textual" for m in loaded)
    assert "socialdesk.tui" not in loaded


def test_running_non_inbox_commands_never_loads_textual() -> None:
    """Really running sync, list, show, doctor, state, pages, auth, stats and demo: no Textual."""
    code = (
        "import os\n"
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from socialdesk.sandbox import build_demo\n"
        "import socialdesk.cli as cli\n"
        f"sys.path.insert(0, {str(PACKAGE.parent)!r})\n"
        "from tests.support.demo import install_in_this_process\n"
        "# The demo's own sandbox and client too: unlimited and unpaced (pacing only slept).\n"
        "install_in_this_process()\n"
        "sb, page_id, token = build_demo(threads=12)\n"
        "sb.rate_limit = False\n"
        "server = sb.serve(host='127.0.0.1', port=0)\n"
        "os.environ['SOCIALDESK_GRAPH_URL'] = server.base_url\n"
        "os.environ['SOCIALDESK_TOKEN'] = token\n"
        "from socialdesk.cli.common import use_context_factory\n"
        "from socialdesk.core.context import AppContext\n"
        "# The sandbox's rate limit is off: the client's pacing would only sleep. (A `with`:\n"
        "# a dropped `use_context_factory(...).__enter__()` is finalized at once, and the\n"
        "# factory popped again.)\n"
        "run = lambda *a: CliRunner().invoke(cli.app, list(a))\n"
        "with use_context_factory(lambda *, create_home=False: AppContext.open(\n"
        "        create_home=create_home, pace=False)):\n"
        "    for args in (['sync'], ['list'], ['list', '--json', ''], ['show', '1'],\n"
        "                 ['state', 'export'], ['pages'], ['auth', 'status'], ['doctor'],\n"
        "                 ['demo', '--no-serve', '--threads', '12']):\n"
        "        r = run(*args)\n"
        "        assert r.exit_code in (0, 1), (args, r.output)\n"
        "    run('stats')\n"
        "server.shutdown()\n"
    )
    loaded = _loaded_after(code)
    assert "socialdesk.cli.cmd_sync" in loaded and "socialdesk.store.db" in loaded
    assert not any(_top(m) == "textual" for m in loaded)
    assert "socialdesk.tui" not in loaded


def test_test_modules_never_import_each_other() -> None:
    """Shared test helpers live in tests/support/ (or a conftest): no ``tests.*.test_*`` import,
    so running one test module never depends on another's collection."""
    tests_dir = PACKAGE.parent / "tests"
    offenders: list[str] = []
    for path in sorted(tests_dir.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_"):
                    offenders.append(f"{path.relative_to(tests_dir.parent)}:{node.lineno} {name}")
    assert offenders == []
