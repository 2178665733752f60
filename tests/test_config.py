"""config.py: strict validation, defaults, page lookup and the atomic 0600 write."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from socialdesk.config import (
    Config,
    PageConfig,
    check_template,
    load_config,
    save_config,
    slug_name,
    update_config,
)
from socialdesk.errors import ConfigError, ExitCode, UsageError
from socialdesk.paths import Paths, WriteFailed, resolve_paths

FULL = """
default_page = "shop"
[pages.shop]
id = "1234567890"
[pages.other]
id = "555"
[graph]
version = "v25.0"
base_url = "http://127.0.0.1:9999"
[sync]
poll_seconds = 30
comment_lookback_days = 14
deep_sweep_hours = 12
[messaging]
human_agent = true
[stats]
timezone = "Europe/Warsaw"
business_hours = "Mon-Fri 09:00-17:00"
[templates.thanks]
text = ["Thanks {first_name}!", "Hi {name}, {page} got it. {{braces}}"]
[templates.short]
text = "One variant"
[views]
urgent = "is:awaiting expires:<2h"
"""


@pytest.fixture
def paths() -> Paths:
    p = resolve_paths()
    p.ensure()
    return p


def write(paths: Paths, text: str) -> None:
    paths.config_file.write_text(text, encoding="utf-8")


def load_error(paths: Paths, text: str) -> ConfigError:
    write(paths, text)
    with pytest.raises(ConfigError) as info:
        load_config(paths)
    return info.value


def test_missing_file_gives_defaults(paths: Paths) -> None:
    """No config.toml means the documented defaults."""
    cfg = load_config(paths)
    assert cfg == Config()
    assert cfg.sync.poll_seconds == 60 and cfg.graph.version == "v26.0"
    assert cfg.stats.timezone == "UTC" and cfg.messaging.human_agent is False


def test_full_file_parses(paths: Paths) -> None:
    """Every documented key is read into the typed dataclasses."""
    write(paths, FULL)
    cfg = load_config(paths)
    assert cfg.default_page == "shop"
    assert cfg.pages["shop"] == PageConfig("shop", "1234567890")
    assert cfg.graph.version == "v25.0" and cfg.graph.base_url == "http://127.0.0.1:9999"
    assert (cfg.sync.poll_seconds, cfg.sync.comment_lookback_days) == (30, 14)
    assert cfg.sync.deep_sweep_hours == 12 and cfg.messaging.human_agent is True
    assert cfg.stats.timezone == "Europe/Warsaw"
    assert cfg.templates["thanks"][1].startswith("Hi {name}")
    assert cfg.templates["short"] == ("One variant",)
    assert cfg.views == {"urgent": "is:awaiting expires:<2h"}


def test_unknown_key_names_file_and_dotted_key(paths: Paths) -> None:
    """A typo in a key is an error naming the file and the dotted key, with a suggestion."""
    err = load_error(paths, "[sync]\npol_seconds = 5\n")
    assert "config.toml: unknown key 'sync.pol_seconds'" in err.message
    assert str(paths.config_file) in err.message
    assert err.hint is not None and "sync.poll_seconds" in err.hint
    assert err.exit_code == ExitCode.USAGE


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("colour = true\n", "'colour'"),
        ("[pages.shop]\nid = '1'\nname = 'x'\n", "'pages.shop.name'"),
        ("[templates.t]\ntext = 'x'\nbody = 'y'\n", "'templates.t.body'"),
        ("[stats]\ntz = 'UTC'\n", "'stats.tz'"),
    ],
)
def test_unknown_keys_everywhere(paths: Paths, text: str, key: str) -> None:
    """Unknown keys are refused at every level."""
    assert f"unknown key {key}" in load_error(paths, text).message


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ('[sync]\npoll_seconds = "60"\n', "sync.poll_seconds", "an integer"),
        ("[sync]\npoll_seconds = true\n", "sync.poll_seconds", "an integer"),
        ("[sync]\npoll_seconds = 1.5\n", "sync.poll_seconds", "an integer"),
        ('[messaging]\nhuman_agent = "yes"\n', "messaging.human_agent", "true or false"),
        ("[stats]\ntimezone = 3\n", "stats.timezone", "a string"),
        ("[graph]\nversion = 26\n", "graph.version", "a string"),
        ("graph = 1\n", "graph", "a table"),
        ("[views]\nurgent = 1\n", "views.urgent", "a string"),
        ("[templates.t]\ntext = [1]\n", "templates.t.text[0]", "a string"),
        ("[templates.t]\ntext = 5\n", "templates.t.text", "an array"),
        ("default_page = 1\n", "default_page", "a string"),
    ],
)
def test_wrong_type_names_key_and_expected_type(
    paths: Paths, text: str, key: str, expected: str
) -> None:
    """A wrong type names the key and the type it must be."""
    err = load_error(paths, text)
    assert f"'{key}'" in err.message and f"must be {expected}" in err.message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[pages.shop]\nid = 'abc'\n", "numeric page id"),
        ("[pages.shop]\n", "needs an id"),
        ("[pages.'bad name']\nid = '1'\n", "not a valid name"),
        ("[pages.'123']\nid = '1'\n", "not a valid name"),
        ("[pages.a]\nid = '1'\n[pages.b]\nid = '1'\n", "repeats the page id"),
        ("default_page = 'nope'\n[pages.a]\nid = '1'\n", "not a configured page"),
        ("[graph]\nversion = '26'\n", "v26.0"),
        ("[graph]\nbase_url = 'ftp://x'\n", "http(s) URL"),
        ("[sync]\npoll_seconds = 0\n", "between 5 and"),
        ("[stats]\ntimezone = 'Mars/Olympus'\n", "not a known timezone"),
        ("[stats]\nbusiness_hours = 'weekdays 9-5'\n", "business_hours"),
        ("[stats]\nbusiness_hours = 'Mon-Fri 17:00-09:00'\n", "ends before it starts"),
        ("[templates.t]\ntext = []\n", "at least one variant"),
        ("[templates.t]\n", "needs a text"),
        ("[views]\n'a b' = 'is:open'\n", "not a valid name"),
        ("not toml at all [", "not valid TOML"),
    ],
)
def test_bad_values_are_refused(paths: Paths, text: str, fragment: str) -> None:
    """Invalid values fail at load with a message that says what is wrong."""
    err = load_error(paths, text)
    assert fragment in err.message and str(paths.config_file) in err.message


def test_unquoted_page_id_is_accepted(paths: Paths) -> None:
    """An integer page id is unambiguous and read as its digits."""
    write(paths, "[pages.shop]\nid = 1234\n")
    assert load_config(paths).pages["shop"].id == "1234"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Hi {firstname}", "unknown placeholder {firstname}"),
        ("Hi {0}", "unknown placeholder {0}"),
        ("Hi {}", "unknown placeholder {}"),
        ("Hi {name.upper}", "unknown placeholder {name.upper}"),
        ("Hi {name!r}", "unknown placeholder {name!r}"),
        ("Hi {name:>10}", "unknown placeholder {name:>10}"),
        ("Hi {name", "unbalanced braces"),
        ("   ", "a variant is empty"),
        ("Hi \u202e{name}", "control or bidirectional characters (U+202E)"),
    ],
)
def test_template_placeholders_checked_at_load(paths: Paths, text: str, fragment: str) -> None:
    """Only {first_name} {name} {page} are allowed; the error names template and placeholder."""
    err = load_error(paths, f"[templates.thanks]\ntext = [{text!r}]\n".replace("'", '"'))
    assert "template 'thanks'" in err.message and fragment in err.message
    with pytest.raises(ConfigError):
        check_template("thanks", text)


def test_page_lookup(paths: Paths) -> None:
    """page() finds by name or id, falls back to the default, and names choices when unknown."""
    write(paths, FULL)
    cfg = load_config(paths)
    assert cfg.page().name == "shop"
    assert cfg.page("other").id == "555"
    assert cfg.page("555").name == "other"
    assert cfg.page("999") == PageConfig("999", "999")
    with pytest.raises(UsageError) as info:
        cfg.page("nope")
    assert info.value.hint is not None and "shop (1234567890)" in info.value.hint


def test_page_lookup_without_default() -> None:
    """One page is the default by itself; none or several without a default is a usage error."""
    assert Config(pages={"a": PageConfig("a", "1")}).page().id == "1"
    with pytest.raises(UsageError, match="no page is configured"):
        Config().page()
    two = Config(pages={"a": PageConfig("a", "1"), "b": PageConfig("b", "2")})
    with pytest.raises(UsageError, match="none is the default"):
        two.page()


def test_save_roundtrip_atomic_and_0600(paths: Paths) -> None:
    """save_config writes what load_config reads back, mode 0600, leaving no temp files."""
    write(paths, FULL)
    cfg = load_config(paths)
    paths.config_file.unlink()
    save_config(paths, cfg)
    assert load_config(paths) == cfg
    assert stat.S_IMODE(paths.config_file.stat().st_mode) == 0o600
    assert [p.name for p in paths.config_dir.iterdir() if p.name.endswith(".tmp")] == []


def test_save_replaces_a_world_readable_file_with_0600(paths: Paths) -> None:
    """An existing 0644 config is replaced by a 0600 one (a new inode, not a rewrite)."""
    write(paths, "")
    os.chmod(paths.config_file, 0o644)
    before = paths.config_file.stat().st_ino
    save_config(paths, Config().with_page(PageConfig("shop", "1")))
    assert stat.S_IMODE(paths.config_file.stat().st_mode) == 0o600
    assert paths.config_file.stat().st_ino != before


def test_save_refuses_invalid_config(paths: Paths) -> None:
    """A config that would not load again is never written."""
    bad = Config(stats=Config().stats.__class__(timezone="Nowhere/Land"))
    with pytest.raises(ConfigError):
        save_config(paths, bad)
    assert not paths.config_file.exists()


def test_failed_write_keeps_old_file(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the rename fails the old file is untouched and the temp file removed."""
    write(paths, FULL)

    def boom(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(WriteFailed, match=r"cannot write .*config\.toml"):
        save_config(paths, Config())
    assert paths.config_file.read_text() == FULL
    assert [p for p in paths.config_dir.iterdir() if p.name.endswith(".tmp")] == []


def test_update_config_saves_changes_only_on_success(paths: Paths) -> None:
    """update_config saves the edited config, and nothing when the block raises."""
    with update_config(paths) as editor:
        editor.config = editor.config.with_page(PageConfig("shop", "42"))
    assert load_config(paths).default_page == "shop"
    with pytest.raises(RuntimeError), update_config(paths) as editor:
        editor.config = editor.config.without_page("shop")
        raise RuntimeError
    assert "shop" in load_config(paths).pages


def test_with_and_without_page() -> None:
    """with_page replaces by name or id and sets the default; without_page moves the default."""
    cfg = Config().with_page(PageConfig("a", "1")).with_page(PageConfig("b", "2"))
    assert cfg.default_page == "a"
    cfg = cfg.with_page(PageConfig("renamed", "1"), make_default=True)
    assert set(cfg.pages) == {"b", "renamed"} and cfg.default_page == "renamed"
    assert cfg.without_page("renamed").default_page == "b"
    assert cfg.without_page("renamed").without_page("b").default_page is None


def test_with_template_checks_placeholders() -> None:
    """Templates added by commands obey the same rules as the file."""
    cfg = Config().with_template("hi", ("Hi {first_name}",))
    assert cfg.templates["hi"] == ("Hi {first_name}",)
    with pytest.raises(ConfigError, match="unknown placeholder"):
        cfg.with_template("bad", ("Hi {email}",))


def test_business_hours_multi_part_spec_is_accepted(tmp_path: Path) -> None:
    """stats.business_hours takes the full grammar; a malformed one names the key."""
    good = 'default_page = "shop"\n[pages.shop]\nid = "1"\n[stats]\n'
    good += 'business_hours = "Mon-Fri 09:00-17:00, Sat 10:00-14:00"\n'
    paths = Paths(config_dir=tmp_path, data_dir=tmp_path)
    paths.config_file.write_text(good)
    assert load_config(paths).stats.business_hours == "Mon-Fri 09:00-17:00, Sat 10:00-14:00"
    paths.config_file.write_text(good.replace("Sat 10:00", "Funday 10:00"))
    with pytest.raises(ConfigError, match=r"stats\.business_hours"):
        load_config(paths)


def test_slug_name() -> None:
    """Free-text page names become valid config names, with a fallback."""
    assert slug_name("Anna's Shop!", "x") == "annas-shop"
    assert slug_name("Магазин", "page-1") == "page-1"
    assert slug_name("2024", "page-1") == "page-1"


def test_non_utf8_file(paths: Paths) -> None:
    """A config that is not UTF-8 is a clear config error."""
    Path(paths.config_file).write_bytes(b"\xff\xfe[sync]")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(paths)


def test_ensure_and_save_create_private_directories(tmp_path: Path) -> None:
    """Paths.ensure and save_config create missing directories (parents too) 0700, files 0600."""
    from socialdesk.config import Config, save_config

    paths = Paths(config_dir=tmp_path / "c" / "cfg", data_dir=tmp_path / "d" / "data")
    save_config(paths, Config())
    assert stat.S_IMODE((tmp_path / "c").stat().st_mode) == 0o700
    assert stat.S_IMODE(paths.config_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(paths.config_file.stat().st_mode) == 0o600
    paths.ensure()
    for directory in (tmp_path / "d", paths.data_dir, paths.lock_dir):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    os.chmod(paths.lock_dir, 0o755)
    paths.ensure()
    assert stat.S_IMODE(paths.lock_dir.stat().st_mode) == 0o700
