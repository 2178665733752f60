"""The rules file: strict parsing, every error naming the file, the rule and the key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from socialdesk.config import Config, StatsConfig
from socialdesk.core.rules.model import Hours, Once, RuleState, parse_rules
from socialdesk.errors import ConfigError

PATH = Path("/home/x/rules.toml")
CFG = dataclasses.replace(
    Config(templates={"one": ("Hi {first_name}",), "three": ("a", "b", "c")}),
    stats=StatsConfig(business_hours="Mon-Fri 09:00-17:00"),
)


def _err(text: str, config: Config = CFG) -> str:
    with pytest.raises(ConfigError) as info:
        parse_rules(text, PATH, config=config)
    return info.value.message


def test_defaults_a_new_rule_is_shadow_once_per_request() -> None:
    rs = parse_rules('[[rule]]\nname = "a"\nquery = "is:dm"\nreply = "one"\n', PATH, config=CFG)
    [r] = rs.rules
    assert r.state is RuleState.SHADOW and r.once is Once.REQUEST and r.hours is Hours.ANY
    assert r.max_age == 30 * 60  # a sending rule's default maximum age
    assert rs.settings.enabled and not rs.settings.after_sync


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('query = "is:dm"\nonce = "twice"', "once"),
        ('query = "is:dm"\nstate = "on"', "state"),
        ('query = "is:dm"\ncolour = "red"', "colour"),
        ('query = "is:nonsense"', "query"),
        ('query = "is:dm"\nreply = "nope"', "reply"),
        ('query = "is:dm"\ncooldown = "soon"', "cooldown"),
        ('query = "is:dm"\nactive = "2026-12-27..2026-12-24"', "active"),
        ('query = "is:dm"\nreply_private = "one"', "reply_private"),
        ('query = "is:dm"\nhide = true', "hide"),
        ('query = "is:dm"\nreply = "one"\nonce = "always"', "once"),
        ('query = "is:dm"\nreply = "one"\nmax_age = "2d"', "max_age"),
        ('query = "is:comment"\nreply = "one"', "reply"),  # public replies need 3 variants
        ('query = "is:dm"\nmax_per_run = 0', "max_per_run"),
        ('query = "is:dm"\ntag = [1]', "tag"),
        ("tag = ['x']", "query"),
    ],
)
def test_a_bad_rule_names_the_file_the_rule_and_the_key(body: str, key: str) -> None:
    msg = _err(f'[[rule]]\nname = "bad-one"\n{body}\n')
    assert str(PATH) in msg and "rule 'bad-one'" in msg and f"'{key}'" in msg


def test_hours_need_business_hours_and_dm_replies_a_disclosure() -> None:
    msg = _err('[[rule]]\nname = "a"\nquery = "is:dm"\nhours = "closed"\n', Config())
    assert "'hours'" in msg and "business hours" in msg
    msg = _err(
        '[settings]\ndisclosure = ""\n[[rule]]\nname = "a"\nquery = "is:dm"\nreply = "one"\n'
    )
    assert "'reply'" in msg and "disclosure" in msg


def test_settings_names_and_duplicates() -> None:
    assert "[settings]: key 'surge'" in _err("[settings]\nsurge = 3\n")
    assert "'name'" in _err('[[rule]]\nname = "Bad Name"\nquery = "is:dm"\n')
    twice = '[[rule]]\nname = "a"\nquery = "is:dm"\n'
    assert "used twice" in _err(twice + twice)
    assert "not valid TOML" in _err("[[rule]\n")
    assert "unknown key 'rules'" in _err("[[rules]]\nname = 'a'\n")


def test_an_edit_changes_the_digest_but_the_state_does_not() -> None:
    base = '[[rule]]\nname = "a"\nquery = "is:dm"\n'
    a = parse_rules(base, PATH, config=CFG).rules[0]
    b = parse_rules(base + 'state = "live"\n', PATH, config=CFG).rules[0]
    c = parse_rules(base + 'tag = ["x"]\n', PATH, config=CFG).rules[0]
    assert a.digest == b.digest != c.digest
