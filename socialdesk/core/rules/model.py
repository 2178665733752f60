"""The rules file: its model and strict parsing (docs/RULES.md is the reference).

Called by the rest of ``core.rules`` (run, test, replay, list) and ``core.syncing`` users that
ask whether rules run after a sync. Rules live in ``rules.toml`` beside ``config.toml``, a file
socialdesk only reads (it rewrites ``config.toml``, which would lose the comments people keep
next to rules). The file holds ``[settings]`` (switches and global limits), optional
``[templates.NAME]`` of its own and the ``[[rule]]`` list, in order. Every problem is a
:class:`~socialdesk.errors.ConfigError` (exit 2) naming the file, the rule and the key; an
invalid file never runs "the rules that parsed".
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from socialdesk.config import Config, template_problem
from socialdesk.errors import ConfigError, SocialdeskError
from socialdesk.paths import Paths, read_bounded_text
from socialdesk.store.query import parse_duration, parse_query

RULES_FILE = "rules.toml"
"""The rules file's name, in the config directory."""
RULES_LIMIT = 1024 * 1024
"""The largest rules file read."""
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_SPAN_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
DEFAULT_SEND_MAX_AGE = 30 * 60
"""A sending rule's default maximum age of the customer's message (seconds)."""
MAX_WINDOW = 24 * 3600


class RuleState(StrEnum):
    """``off`` (ignored), ``shadow`` (decide and log ``would``; change nothing), ``live``."""

    OFF = "off"
    SHADOW = "shadow"
    LIVE = "live"


class Hours(StrEnum):
    """When, relative to ``[stats] business_hours``, a rule may act."""

    ANY = "any"
    OPEN = "open"
    CLOSED = "closed"


class Once(StrEnum):
    """What "once" means for a rule: the ledger key it takes when it fires."""

    REQUEST = "request"
    THREAD = "thread"
    CUSTOMER = "customer"
    ALWAYS = "always"


@dataclass(frozen=True)
class Settings:
    """``[settings]`` of the rules file (every key optional)."""

    enabled: bool = True
    """The file's kill switch: ``false`` and no rule ever acts (test/check still work)."""
    after_sync: bool = False
    """Opt-in: run the rules after every successful sync round (``sync --rules`` otherwise)."""
    disclosure: str = "Automatic reply: "
    """Put before every automated DM text (Meta: disclose automation where the law asks)."""
    window_margin: int = 600
    """Never send when the reply window closes sooner than this (seconds)."""
    human_quiet: int = 600
    """No automated reply when a person replied on this page this recently (seconds)."""
    max_auto_per_thread_day: int = 2
    """Automated sends to one thread per 24 h, all rules together."""
    surge_pause: int = 20
    """A run that wants to send more than this sends nothing and pauses the rules."""
    refusal_burst: int = 3
    """Refusals (551, 10900…) in one run that pause the rules."""
    pace_seconds: float = 1.0
    """The least time between two automated sends."""
    ignore_authors: tuple[str, ...] = ()
    """Customer ids never acted on (staff profiles, partner Pages)."""


@dataclass(frozen=True)
class Rule:
    """One ``[[rule]]``."""

    name: str
    query: str
    state: RuleState = RuleState.SHADOW
    hours: Hours = Hours.ANY
    active: tuple[date, date] | None = None
    tag: tuple[str, ...] = ()
    untag: tuple[str, ...] = ()
    note: str | None = None
    done: bool = False
    snooze: int | None = None
    hide: bool = False
    reply: str | None = None
    reply_private: str | None = None
    once: Once = Once.REQUEST
    cooldown: int | None = None
    max_age: int | None = None
    max_per_run: int = 10
    stop: bool = False
    position: int = 0
    """1-based place in the file."""

    @property
    def sends(self) -> bool:
        """Whether the rule sends anything to the customer."""
        return self.reply is not None or self.reply_private is not None

    @property
    def digest(self) -> str:
        """A digest of the conditions and actions (not the state): an edit makes a new version."""
        data = asdict(self)
        for k in ("state", "position", "name"):
            data.pop(k)
        raw = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def actions(self) -> list[str]:
        """The rule's actions, in execution order, as short words (log, list)."""
        out: list[str] = [f"tag:{t}" for t in self.tag] + [f"untag:{t}" for t in self.untag]
        if self.note:
            out.append("note")
        if self.reply_private:
            out.append(f"reply_private:{self.reply_private}")
        if self.reply:
            out.append(f"reply:{self.reply}")
        if self.hide:
            out.append("hide")
        if self.done:
            out.append("done")
        if self.snooze:
            out.append(f"snooze:{self.snooze}s")
        return out


@dataclass(frozen=True)
class RuleSet:
    """The whole rules file, validated."""

    path: Path
    settings: Settings = field(default_factory=Settings)
    rules: tuple[Rule, ...] = ()
    templates: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The file's own templates (over the config's of the same name)."""
    exists: bool = True

    def rule(self, name: str) -> Rule:
        """The rule ``name`` or a :class:`ConfigError` naming the known ones."""
        for r in self.rules:
            if r.name == name:
                return r
        known = ", ".join(r.name for r in self.rules) or "none"
        raise ConfigError(f"{self.path}: no rule named {name!r}", hint=f"rules: {known}")


def rules_path(paths: Paths) -> Path:
    """Where the rules file lives: beside ``config.toml``."""
    return paths.config_dir / RULES_FILE


_SETTINGS_KEYS = tuple(Settings.__dataclass_fields__)
_RULE_KEYS = tuple(k for k in Rule.__dataclass_fields__ if k != "position")
_TOP_KEYS = ("settings", "templates", "rule")


class _Where:
    def __init__(self, path: Path, rule: str | None = None) -> None:
        self.path = path
        self.rule = rule

    def error(self, key: str, problem: str, hint: str | None = None) -> ConfigError:
        where = f"rule {self.rule!r}" if self.rule is not None else "[settings]"
        return ConfigError(f"{self.path}: {where}: key '{key}': {problem}", hint=hint)


def _typed(w: _Where, value: Any, expected: type | tuple[type, ...], key: str) -> Any:
    if isinstance(value, bool) and expected in (int, float, (int, float)):
        raise w.error(key, f"expected a number, got {value!r}")
    if not isinstance(value, expected):
        names = (
            " or ".join(t.__name__ for t in expected)
            if isinstance(expected, tuple)
            else expected.__name__
        )
        raise w.error(key, f"expected {names}, got {type(value).__name__} {value!r}")
    return value


def _duration(w: _Where, value: Any, key: str) -> int:
    _typed(w, value, str, key)
    try:
        return parse_duration(value)
    except ValueError:
        raise w.error(key, f"bad duration {value!r}", "use e.g. 30m, 2h, 1d, 1h30m") from None


def _str_list(w: _Where, value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    _typed(w, value, list, key)
    for v in value:
        if not isinstance(v, str) or not v.strip():
            raise w.error(key, f"expected a list of non-empty strings, got {v!r}")
    return tuple(str(v).strip() for v in value)


def _settings(path: Path, raw: Any) -> Settings:
    w = _Where(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [settings] must be a table")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _SETTINGS_KEYS:
            raise w.error(key, "unknown key", f"[settings] keys: {', '.join(_SETTINGS_KEYS)}")
        if key in ("enabled", "after_sync"):
            out[key] = _typed(w, value, bool, key)
        elif key == "disclosure":
            out[key] = _typed(w, value, str, key)
        elif key in ("window_margin", "human_quiet"):
            out[key] = _duration(w, value, key)
        elif key in ("max_auto_per_thread_day", "surge_pause", "refusal_burst"):
            n = _typed(w, value, int, key)
            if n < 1:
                raise w.error(key, f"must be at least 1, got {n}")
            out[key] = n
        elif key == "pace_seconds":
            f = float(_typed(w, value, (int, float), key))
            if f < 0:
                raise w.error(key, "must not be negative")
            out[key] = f
        else:  # ignore_authors
            out[key] = _str_list(w, value, key)
    return Settings(**out)


def _templates(path: Path, raw: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [templates] must be a table of [templates.NAME]")
    out: dict[str, tuple[str, ...]] = {}
    for name, table in raw.items():
        if not isinstance(table, dict) or set(table) != {"text"}:
            raise ConfigError(f"{path}: [templates.{name}] needs exactly one key, 'text'")
        texts = table["text"]
        texts = [texts] if isinstance(texts, str) else texts
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise ConfigError(f"{path}: [templates.{name}] text: expected a list of strings")
        for i, t in enumerate(texts, 1):
            problem = template_problem(t)
            if problem is not None:
                raise ConfigError(
                    f"{path}: [templates.{name}] variant {i}: {problem[0]}", hint=problem[1]
                )
        out[str(name)] = tuple(texts)
    return out


def _has_filter(query: str, key: str, value: str) -> bool:
    """Whether the query holds the non-negated term ``key:value`` at its top level (AND)."""
    from socialdesk.store.query import And, Term

    root = parse_query(query).root
    items = root.children if isinstance(root, And) else (root,) if root is not None else ()
    return any(
        isinstance(n, Term) and n.key == key and n.value == value and not n.negated for n in items
    )


def _rule(
    path: Path,
    raw: Any,
    position: int,
    *,
    settings: Settings,
    templates: Mapping[str, Sequence[str]],
    views: Mapping[str, str],
    business_hours: str | None,
) -> Rule:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: rule #{position} must be a table ([[rule]])")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ConfigError(
            f"{path}: rule #{position}: key 'name': expected a slug, got {name!r}",
            hint="lower-case letters, digits and '-', at most 40 characters, e.g. \"away\"",
        )
    w = _Where(path, name)
    out: dict[str, Any] = {"name": name, "position": position}
    for key, value in raw.items():
        if key not in _RULE_KEYS:
            raise w.error(key, "unknown key", f"rule keys: {', '.join(_RULE_KEYS)}")
        if key == "name":
            continue
        if key == "state":
            try:
                out[key] = RuleState(_typed(w, value, str, key))
            except ValueError:
                raise w.error(key, f"expected off, shadow or live, got {value!r}") from None
        elif key == "hours":
            try:
                out[key] = Hours(_typed(w, value, str, key))
            except ValueError:
                raise w.error(key, f"expected any, open or closed, got {value!r}") from None
        elif key == "once":
            try:
                out[key] = Once(_typed(w, value, str, key))
            except ValueError:
                raise w.error(
                    key, f"expected request, thread, customer or always, got {value!r}"
                ) from None
        elif key == "query":
            from socialdesk.store.query import expand_views

            try:
                text = expand_views(_typed(w, value, str, key), views)
                parse_query(text)
            except SocialdeskError as exc:
                raise w.error(key, exc.message, exc.hint) from None
            out[key] = text
        elif key == "active":
            m = _SPAN_RE.fullmatch(_typed(w, value, str, key))
            try:
                if m is None:
                    raise ValueError(value)
                span = (date.fromisoformat(m.group(1)), date.fromisoformat(m.group(2)))
            except ValueError:
                raise w.error(
                    key, f"bad date span {value!r}", 'write it like "2026-12-24..2026-12-27"'
                ) from None
            if span[1] < span[0]:
                raise w.error(key, "the span ends before it starts")
            out[key] = span
        elif key in ("tag", "untag"):
            from socialdesk.store.triage import normalize_tag

            try:
                out[key] = tuple(normalize_tag(t) for t in _str_list(w, value, key))
            except SocialdeskError as exc:
                raise w.error(key, exc.message, exc.hint) from None
        elif key == "note":
            out[key] = _typed(w, value, str, key)
        elif key in ("done", "hide", "stop"):
            out[key] = _typed(w, value, bool, key)
        elif key in ("snooze", "cooldown", "max_age"):
            out[key] = _duration(w, value, key)
        elif key in ("reply", "reply_private"):
            tname = _typed(w, value, str, key)
            if tname not in templates:
                known = ", ".join(sorted(templates)) or "none"
                raise w.error(
                    key,
                    f"no template named {tname!r}",
                    f"templates ([templates.NAME] here or in config.toml): {known}",
                )
            out[key] = tname
        else:  # max_per_run
            n = _typed(w, value, int, key)
            if n < 1:
                raise w.error(key, f"must be at least 1, got {n}")
            out[key] = n
    if "query" not in out:
        raise w.error("query", "missing", 'every rule needs a query, e.g. "is:dm is:unanswered"')
    rule = Rule(**out)
    comment_only = _has_filter(rule.query, "is", "comment")
    if rule.reply_private is not None and not comment_only:
        raise w.error(
            "reply_private", "a private reply answers a comment", "add is:comment to the query"
        )
    if rule.hide and not comment_only:
        raise w.error("hide", "only comments can be hidden", "add is:comment to the query")
    if rule.reply is not None and not comment_only and not settings.disclosure.strip():
        raise w.error(
            "reply",
            "automated DM replies need a disclosure",
            'set [settings] disclosure (e.g. "Automatic reply: "), or add is:comment',
        )
    public = rule.reply is not None and not _has_filter(rule.query, "is", "dm")
    if public and rule.reply is not None and len(templates[rule.reply]) < 3:
        raise w.error(
            "reply",
            f"template {rule.reply!r} has {len(templates[rule.reply])} variant(s); a rule"
            " that can reply publicly to comments needs at least 3",
            "Meta flags many identical public replies as spam: add variants, or add is:dm",
        )
    if rule.sends and rule.once is Once.ALWAYS:
        raise w.error("once", "a rule that sends cannot fire always", "use request (the default)")
    if rule.hours is not Hours.ANY and not business_hours:
        raise w.error(
            "hours",
            f"hours = {rule.hours.value!r} needs business hours",
            'set [stats] business_hours in config.toml, e.g. "Mon-Fri 09:00-17:00"',
        )
    if rule.sends:
        age = rule.max_age if rule.max_age is not None else DEFAULT_SEND_MAX_AGE
        if age > MAX_WINDOW - settings.window_margin:
            raise w.error(
                "max_age",
                "longer than the 24-hour window minus the margin",
                "automated replies only go out inside the window; use e.g. 30m",
            )
        rule = replace(rule, max_age=age)
    for key in ("reply", "reply_private"):
        tname = getattr(rule, key)
        if tname is not None:
            _check_template(w, key, tname, templates[tname], settings, private=key != "reply")
    return rule


def _check_template(
    w: _Where,
    key: str,
    name: str,
    variants: Sequence[str],
    settings: Settings,
    *,
    private: bool,
) -> None:
    """Every variant renders and passes the outgoing-text check (with the disclosure)."""
    from socialdesk.core.templates import render
    from socialdesk.core.textcheck import check_text

    for i, v in enumerate(variants, 1):
        text = render(v, customer_name="Alexandra Longname-Example", page_name="Page")
        try:
            check_text(settings.disclosure + text)
        except SocialdeskError as exc:
            raise w.error(key, f"template {name!r} variant {i}: {exc.message}", exc.hint) from None


def parse_rules(
    text: str,
    path: Path,
    *,
    config: Config | None = None,
) -> RuleSet:
    """Parse and validate the rules file's text (see the module doc)."""
    cfg = config or Config()
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    for key in doc:
        if key not in _TOP_KEYS:
            raise ConfigError(
                f"{path}: unknown key '{key}'",
                hint="the file holds [settings], [templates.NAME] and [[rule]] tables",
            )
    settings = _settings(path, doc.get("settings", {}))
    own = _templates(path, doc.get("templates", {}))
    templates: dict[str, Sequence[str]] = {**cfg.templates, **own}
    raw_rules = doc.get("rule", [])
    if not isinstance(raw_rules, list):
        raise ConfigError(f"{path}: 'rule' must be an array of tables ([[rule]])")
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_rules, 1):
        rule = _rule(
            path,
            raw,
            i,
            settings=settings,
            templates=templates,
            views=cfg.views,
            business_hours=cfg.stats.business_hours,
        )
        if rule.name in seen:
            raise ConfigError(f"{path}: rule #{i}: key 'name': {rule.name!r} is used twice")
        seen.add(rule.name)
        rules.append(rule)
    return RuleSet(path, settings, tuple(rules), {k: tuple(v) for k, v in templates.items()})


def load_rules(paths: Paths, config: Config) -> RuleSet:
    """The validated rules file; a missing file is an empty set (no rules)."""
    path = rules_path(paths)
    if not path.exists():
        return RuleSet(path, exists=False)
    text = read_bounded_text(path, RULES_LIMIT, "rules file", error=ConfigError)
    return parse_rules(text, path, config=config)
