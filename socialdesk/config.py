"""The user's settings: ``config.toml``, read strictly and written atomically.

Who reads what:

| section | keys | read by |
|---|---|---|
| top level | ``default_page`` | every command naming a page (``--page``) |
| ``[pages.NAME]`` | ``id`` | every command naming a page |
| ``[graph]`` | ``version``, ``base_url``, ``app_id`` | ``core/session.py`` (the Graph client) |
| ``[sync]`` | ``poll_seconds``, ``comment_lookback_days``, ``deep_sweep_hours`` | sync, inbox |
| ``[messaging]`` | ``human_agent`` | ``core/windows.py``, ``core/outbox.py`` |
| ``[stats]`` | ``timezone``, ``business_hours`` | ``core/stats.py`` |
| ``[templates.NAME]`` | ``text`` (a string or a list of variants) | ``core/templates.py`` |
| ``[views]`` | ``NAME = "query"`` | the inbox (saved views in its sidebar) |
| ``[keys]`` | ``ACTION = "key[,key…]"`` | the inbox (``socialdesk.tui.keys`` names the actions) |

The file is read with :mod:`tomllib` and validated strictly: an unknown key, a wrong type or a bad
value is a :class:`~socialdesk.errors.ConfigError` naming the file, the key and what was expected,
so a typo never silently does nothing. Only socialdesk's own commands write it (``init``,
``auth login``, ``templates add``), with tomli-w, atomically, mode 0600.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import string
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from socialdesk import sanitize
from socialdesk.business_hours import BusinessHours, parse_business_hours
from socialdesk.errors import ConfigError, UsageError
from socialdesk.paths import MIB, Paths, atomic_write, read_bounded_text

__all__ = [
    "CONFIG_LIMIT",
    "TEMPLATE_PLACEHOLDERS",
    "BusinessHours",
    "Config",
    "ConfigEditor",
    "GraphConfig",
    "MessagingConfig",
    "PageConfig",
    "StatsConfig",
    "SyncConfig",
    "check_template",
    "load_config",
    "parse_business_hours",
    "save_config",
    "slug_name",
    "update_config",
]

CONFIG_LIMIT = 1 * MIB
"""The largest config file read (a real one is a few KiB; templates included, well under)."""

TEMPLATE_PLACEHOLDERS: tuple[str, ...] = ("first_name", "name", "page")
"""The only placeholders a template may use (PRODUCT.md §5)."""

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_PAGE_ID_RE = re.compile(r"^[0-9]{1,40}$")
_VERSION_RE = re.compile(r"^v[0-9]+\.[0-9]+$")
_KEY_ACTION_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class PageConfig:
    """A configured Facebook Page."""

    name: str
    """Local short name (``--page shop``, ``page:shop``)."""
    id: str
    """The Graph page id (digits)."""


@dataclass(frozen=True)
class GraphConfig:
    """How to reach the Graph API."""

    version: str = "v26.0"
    """API version used in every path."""
    base_url: str | None = None
    """Base URL override (``SOCIALDESK_GRAPH_URL`` wins over it); None means the real API."""
    app_id: str | None = None
    """The Meta app's id (``SOCIALDESK_APP_ID`` wins over it). With the app secret it makes the
    app token ``auth`` and ``doctor`` ask ``debug_token`` with (token type, scopes, expiry)."""


@dataclass(frozen=True)
class SyncConfig:
    """Polling and how far back comments are swept."""

    poll_seconds: int = 60
    """The inbox's and ``sync --watch``'s poll interval."""
    comment_lookback_days: int = 28
    """Posts active in this window get their comments swept on every sync."""
    deep_sweep_hours: int = 24
    """How often a sync also sweeps every post, whatever its age."""


@dataclass(frozen=True)
class MessagingConfig:
    """Sending rules that depend on the app's permissions."""

    human_agent: bool = False
    """Whether the app holds the Human Agent permission (7-day replies a human wrote)."""


@dataclass(frozen=True)
class StatsConfig:
    """How stats are bucketed."""

    timezone: str = "UTC"
    """IANA timezone days are counted in."""
    business_hours: str | None = None
    """Like ``"Mon-Fri 09:00-17:00, Sat 10:00-14:00"`` (grammar in ``socialdesk.business_hours``);
    enables the business-hours median."""


@dataclass(frozen=True)
class Config:
    """The whole validated ``config.toml``."""

    default_page: str | None = None
    """Name of the page used when no ``--page`` is given."""
    pages: dict[str, PageConfig] = field(default_factory=dict)
    graph: GraphConfig = field(default_factory=GraphConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    messaging: MessagingConfig = field(default_factory=MessagingConfig)
    stats: StatsConfig = field(default_factory=StatsConfig)
    templates: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Template name → its variants (rotated)."""
    views: dict[str, str] = field(default_factory=dict)
    """Saved queries by name."""
    keys: dict[str, str] = field(default_factory=dict)
    """Inbox key remapping: action id → comma-separated keys (the inbox checks the ids)."""

    def page(self, ref: str | None = None) -> PageConfig:
        """The page named or numbered ``ref``, else the default (or the only) page.

        An unconfigured all-digit ``ref`` is taken as a page id, so ``--page 1234`` works with
        ``SOCIALDESK_TOKEN`` alone. Anything else unknown is a :class:`UsageError` naming the
        configured pages.
        """
        if ref is not None:
            ref = ref.strip()
            if ref in self.pages:
                return self.pages[ref]
            for page in self.pages.values():
                if page.id == ref:
                    return page
            if _PAGE_ID_RE.match(ref):
                return PageConfig(name=ref, id=ref)
            raise UsageError(f"unknown page {ref!r}", hint=self._choices_hint())
        if self.default_page is not None and self.default_page in self.pages:
            return self.pages[self.default_page]
        if len(self.pages) == 1:
            return next(iter(self.pages.values()))
        if not self.pages:
            raise UsageError(
                "no page is configured",
                hint=(
                    "run `socialdesk init` (or `socialdesk auth login --page-id ID`); "
                    "`socialdesk demo` tries everything on the built-in sandbox, no account needed"
                ),
            )
        raise UsageError(
            "several pages are configured and none is the default", self._choices_hint()
        )

    def _choices_hint(self) -> str:
        if not self.pages:
            return "no page is configured: run `socialdesk init`"
        names = ", ".join(f"{p.name} ({p.id})" for p in self.pages.values())
        return f"use --page with one of: {names}"

    def with_page(self, page: PageConfig, *, make_default: bool = False) -> Config:
        """A copy with ``page`` added (replacing any page of the same name or id)."""
        pages = {n: p for n, p in self.pages.items() if n != page.name and p.id != page.id}
        pages[page.name] = page
        default = self.default_page
        if make_default or default is None or default not in pages:
            default = page.name
        return dataclasses.replace(self, pages=pages, default_page=default)

    def without_page(self, name: str) -> Config:
        """A copy without the page ``name`` (the default moves to another page, if any)."""
        pages = {n: p for n, p in self.pages.items() if n != name}
        default = self.default_page if self.default_page in pages else next(iter(pages), None)
        return dataclasses.replace(self, pages=pages, default_page=default)

    def with_template(self, name: str, variants: tuple[str, ...]) -> Config:
        """A copy with template ``name`` set to ``variants`` (checked like at load)."""
        _check_name(name, f"templates.{name}")
        if not variants:
            raise ConfigError(f"template {name!r} needs at least one variant")
        for text in variants:
            check_template(name, text)
        return dataclasses.replace(self, templates={**self.templates, name: tuple(variants)})

    def to_dict(self) -> dict[str, Any]:
        """The TOML document for this config (defaults included, ``None`` left out)."""
        doc: dict[str, Any] = {}
        if self.default_page is not None:
            doc["default_page"] = self.default_page
        doc["pages"] = {name: {"id": p.id} for name, p in self.pages.items()}
        for section in ("graph", "sync", "messaging", "stats"):
            values = dataclasses.asdict(getattr(self, section))
            doc[section] = {k: v for k, v in values.items() if v is not None}
        if self.templates:
            doc["templates"] = {name: {"text": list(v)} for name, v in self.templates.items()}
        if self.views:
            doc["views"] = dict(self.views)
        if self.keys:
            doc["keys"] = dict(self.keys)
        return doc


# --- validation ------------------------------------------------------------------------------

_TYPE_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    bool: "true or false",
    dict: "a table",
    list: "an array",
}


class _Reader:
    """Walks the parsed TOML and raises ConfigError naming the file and the dotted key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, key: str, problem: str, hint: str | None = None) -> ConfigError:
        where = f"key '{key}'" if key else "the file"
        return ConfigError(
            f"{self.path}: {where} {problem}",
            hint=hint or f"edit {self.path} (or move it away to start from the defaults)",
        )

    def unknown(self, key: str, known: tuple[str, ...], prefix: str) -> ConfigError:
        close = difflib.get_close_matches(key, known, n=1)
        dotted = f"{prefix}{key}"
        hint = f"did you mean '{prefix}{close[0]}'?" if close else None
        if hint is None:
            hint = "known keys here: " + ", ".join(known) if known else None
        err = ConfigError(f"{self.path}: unknown key '{dotted}'", hint=hint)
        return err

    def typed(self, value: Any, expected: type, key: str) -> Any:
        # bool is a subclass of int in Python, but `poll_seconds = true` is a typo, not a 1.
        ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
        if not ok:
            raise self.error(
                key, f"must be {_TYPE_NAMES[expected]}, not {_describe(value)}", hint=None
            )
        return value

    def table(self, value: Any, key: str, known: tuple[str, ...]) -> dict[str, Any]:
        table: dict[str, Any] = self.typed(value, dict, key)
        for k in table:
            if k not in known:
                raise self.unknown(k, known, f"{key}." if key else "")
        return table


def _describe(value: Any) -> str:
    for typ, name in ((bool, "true or false"), (int, "an integer"), (float, "a number")):
        if isinstance(value, typ):
            return f"{name} ({value!r})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def _check_name(name: str, key: str, path: Path | None = None) -> None:
    if not _NAME_RE.match(name) or name.isdigit():
        where = f"{path}: " if path else ""
        raise ConfigError(
            f"{where}name {name!r} in '{key}' is not a valid name",
            hint="use letters, digits, '.', '_' or '-' (not only digits), at most 64 characters",
        )


def _template_unsafe(ch: str) -> bool:
    """Characters a template may not hold: controls (but tab and newline) and bidi controls.

    The sets are sanitize's (the only definitions); read at call time, so loading the config
    does not build sanitize's Unicode tables.
    """
    return (ch in sanitize.CONTROLS and ch not in "\t\n") or ch in sanitize.BIDI_CONTROLS


def template_problem(text: str) -> tuple[str, str | None] | None:
    """The first problem of one template variant as ``(message, hint)``, or ``None``.

    The single definition of a valid variant: not empty, no control or bidirectional
    characters, braces only as ``{first_name}`` ``{name}`` ``{page}`` or ``{{`` ``}}``. Used at
    config load (:func:`check_template`) and by ``templates add`` (``core.templates``).
    """
    allowed = ", ".join("{" + p + "}" for p in TEMPLATE_PLACEHOLDERS)
    if not text.strip():
        return "a variant is empty", None
    bad = sorted({ch for ch in text if _template_unsafe(ch)})
    if bad:
        names = ", ".join(f"U+{ord(ch):04X}" for ch in bad)
        return (
            f"holds control or bidirectional characters ({names})",
            "they would be refused at every send; remove them",
        )
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        return f"unbalanced braces in {text!r} ({exc})", "write {{ and }} for literal braces"
    for _literal, field_name, spec, conversion in parsed:
        if field_name is None:
            continue
        if field_name not in TEMPLATE_PLACEHOLDERS or spec or conversion:
            shown = "{" + field_name + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            return (
                f"unknown placeholder {shown}",
                f"placeholders: {allowed}; write a literal brace as {{{{ or }}}}",
            )
    return None


def check_template(name: str, text: str) -> None:
    """Raise ConfigError naming template ``name`` if a variant is not valid (see above)."""
    problem = template_problem(text)
    if problem is not None:
        message, hint = problem
        raise ConfigError(f"template {name!r}: {message}", hint=hint)


def _section(reader: _Reader, doc: dict[str, Any], key: str, cls: type[Any]) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    raw = reader.table(doc.get(key, {}), key, tuple(fields))
    values: dict[str, Any] = {}
    for name, value in raw.items():
        default = fields[name].default
        expected = type(default) if default is not None else str
        values[name] = reader.typed(value, expected, f"{key}.{name}")
    return cls(**values)


def _parse(doc: dict[str, Any], path: Path) -> Config:
    reader = _Reader(path)
    known = (
        "default_page",
        "pages",
        "graph",
        "sync",
        "messaging",
        "stats",
        "templates",
        "views",
        "keys",
    )
    reader.table(doc, "", known)

    pages: dict[str, PageConfig] = {}
    for name, raw in reader.typed(doc.get("pages", {}), dict, "pages").items():
        key = f"pages.{name}"
        _check_name(name, key, path)
        table = reader.table(raw, key, ("id",))
        if "id" not in table:
            raise reader.error(key, "needs an id", hint=f'add  id = "<page id>"  under [{key}]')
        page_id = table["id"]
        if isinstance(page_id, int) and not isinstance(page_id, bool):
            page_id = str(page_id)  # an unquoted id is unambiguous; accept it
        reader.typed(page_id, str, f"{key}.id")
        if not _PAGE_ID_RE.match(page_id):
            raise reader.error(f"{key}.id", f"must be a numeric page id, not {page_id!r}")
        if any(p.id == page_id for p in pages.values()):
            raise reader.error(f"{key}.id", f"repeats the page id {page_id} of another page")
        pages[name] = PageConfig(name=name, id=page_id)

    default_page = doc.get("default_page")
    if default_page is not None:
        reader.typed(default_page, str, "default_page")
        if default_page not in pages:
            choices = ", ".join(pages) or "none configured"
            raise reader.error(
                "default_page",
                f"names {default_page!r}, which is not a configured page",
                hint=f"configured pages: {choices}",
            )

    graph: GraphConfig = _section(reader, doc, "graph", GraphConfig)
    if not _VERSION_RE.match(graph.version):
        raise reader.error("graph.version", f"must look like 'v26.0', not {graph.version!r}")
    if graph.base_url is not None and not re.match(r"^https?://[^\s/]+", graph.base_url):
        raise reader.error("graph.base_url", f"must be an http(s) URL, not {graph.base_url!r}")
    if graph.app_id is not None and not graph.app_id.isdigit():
        raise reader.error("graph.app_id", f"must be a numeric app id, not {graph.app_id!r}")

    sync: SyncConfig = _section(reader, doc, "sync", SyncConfig)
    for name, low, high in (
        ("poll_seconds", 5, 86_400),
        ("comment_lookback_days", 1, 3_650),
        ("deep_sweep_hours", 1, 8_760),
    ):
        value = getattr(sync, name)
        if not low <= value <= high:
            raise reader.error(f"sync.{name}", f"must be between {low} and {high}, not {value}")

    messaging: MessagingConfig = _section(reader, doc, "messaging", MessagingConfig)
    stats: StatsConfig = _section(reader, doc, "stats", StatsConfig)
    _check_timezone(reader, stats.timezone)
    if stats.business_hours is not None:
        try:
            parse_business_hours(stats.business_hours)
        except ValueError as exc:
            raise reader.error("stats.business_hours", f"is invalid: {exc}") from None

    templates: dict[str, tuple[str, ...]] = {}
    for name, raw in reader.typed(doc.get("templates", {}), dict, "templates").items():
        key = f"templates.{name}"
        _check_name(name, key, path)
        table = reader.table(raw, key, ("text",))
        text = table.get("text")
        if text is None:
            raise reader.error(key, "needs a text", hint=f'add  text = ["…"]  under [{key}]')
        variants = [text] if isinstance(text, str) else reader.typed(text, list, f"{key}.text")
        if not variants:
            raise reader.error(f"{key}.text", "needs at least one variant")
        for i, variant in enumerate(variants):
            reader.typed(variant, str, f"{key}.text[{i}]")
            try:
                check_template(name, variant)
            except ConfigError as exc:
                raise ConfigError(f"{path}: {exc.message}", exc.hint) from None
        templates[name] = tuple(variants)

    views: dict[str, str] = {}
    for name, query in reader.typed(doc.get("views", {}), dict, "views").items():
        _check_name(name, f"views.{name}", path)
        views[name] = reader.typed(query, str, f"views.{name}")

    keys: dict[str, str] = {}
    for action, value in reader.typed(doc.get("keys", {}), dict, "keys").items():
        if not _KEY_ACTION_RE.match(action):
            raise reader.error(f"keys.{action}", "is not an inbox action name")
        text = reader.typed(value, str, f"keys.{action}")
        if not text.strip() or any(not k.strip() for k in text.split(",")):
            raise reader.error(f"keys.{action}", f'must list keys like "j,down", not {text!r}')
        keys[action] = text

    return Config(
        default_page=default_page,
        pages=pages,
        graph=graph,
        sync=sync,
        messaging=messaging,
        stats=stats,
        templates=templates,
        views=views,
        keys=keys,
    )


def _check_timezone(reader: _Reader, name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise reader.error(
            "stats.timezone",
            f"is not a known timezone: {name!r}",
            hint="use an IANA name such as 'Europe/Warsaw' or 'UTC'",
        ) from None


def config_from_dict(doc: Mapping[str, Any], path: Path | str = "config.toml") -> Config:
    """Validate a parsed TOML document (as :func:`load_config` does) and build the Config."""
    return _parse(dict(doc), Path(path))


# --- reading and writing ---------------------------------------------------------------------


def load_config(paths: Paths) -> Config:
    """The config at ``paths.config_file``; the defaults when the file does not exist."""
    path = paths.config_file
    try:
        text = read_bounded_text(path, CONFIG_LIMIT, "the config file", error=ConfigError)
    except FileNotFoundError:
        return Config()
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: is not valid TOML: {exc}", hint=f"fix the line named above in {path}"
        ) from None
    return _parse(doc, path)


def save_config(paths: Paths, cfg: Config) -> None:
    """Write ``cfg`` to ``paths.config_file`` atomically (temp file, fsync, rename), mode 0600."""
    import tomli_w

    # Validate what we write by the same rules we read with, so we never write a file we
    # would then refuse to load.
    _parse(cfg.to_dict(), paths.config_file)
    text = "# Written by socialdesk. Edit freely; unknown keys are errors.\n" + tomli_w.dumps(
        cfg.to_dict()
    )
    atomic_write(paths.config_file, text.encode("utf-8"))


@dataclass
class ConfigEditor:
    """What :func:`update_config` yields: replace ``config`` and it is saved on exit."""

    config: Config


@contextmanager
def update_config(paths: Paths) -> Iterator[ConfigEditor]:
    """Load, let the block replace ``editor.config``, and save it if it changed (not on error)."""
    original = load_config(paths)
    editor = ConfigEditor(original)
    yield editor
    if editor.config != original or not paths.config_file.exists():
        save_config(paths, editor.config)


def slug_name(text: str, fallback: str) -> str:
    """A valid page/template name from free text (``"Anna's Shop"`` → ``"annas-shop"``)."""
    ascii_only = text.encode("ascii", "ignore").decode().lower().replace("'", "")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")[:40].strip("-")
    if not slug or slug.isdigit() or not _NAME_RE.match(slug):
        return fallback
    return slug
