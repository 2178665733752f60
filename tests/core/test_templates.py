"""Templates: placeholder validation, rendering and per-customer variant rotation."""

from __future__ import annotations

import itertools

import pytest

from socialdesk.core.templates import (
    Template,
    assign_variants,
    get_template,
    render,
    render_for,
    validate_name,
    validate_text,
    variant_index,
)
from socialdesk.errors import UsageError


def test_render_placeholders() -> None:
    """{first_name}, {name}, {page} fill in; {{ }} are literal braces."""
    out = render(
        "Hi {first_name} ({name}) from {page} {{ok}}", customer_name="Ann Lee", page_name="Shop"
    )
    assert out == "Hi Ann (Ann Lee) from Shop {ok}"


def test_render_cleans_names_and_falls_back() -> None:
    """Escape sequences (whole, payload included), controls and bidi leave the name."""
    assert render("Hi {first_name}", customer_name="\u202eEvil\x1b[2J", page_name="") == ("Hi Evil")
    hostile = "Mallory \x1b]52;c;cm0gLXJmIH4K\x07\x9b31mRoot\u2028x"
    assert render("Hi {name}", customer_name=hostile, page_name="") == "Hi Mallory 31mRoot x"
    assert render("Hi {first_name}", customer_name="  ", page_name="") == "Hi there"
    assert render("Hi {name}", customer_name="{page}", page_name="P") == "Hi {page}"


@pytest.mark.parametrize(
    "text",
    [
        "Hi {frist_name}",
        "Hi {name.__class__}",
        "Hi {name[0]}",
        "Hi {name!r}",
        "Hi {name:>10}",
        "Hi {}",
        "Hi {0}",
        "Hi {name",
        "Hi }",
    ],
)
def test_bad_placeholders_refused(text: str) -> None:
    """A typo'd placeholder or any brace trick is a usage error naming it."""
    with pytest.raises(UsageError):
        validate_text(text)


def test_unknown_placeholder_message_names_it() -> None:
    """The error shows the offending placeholder and the allowed ones."""
    with pytest.raises(UsageError, match=r"\{frist_name\}") as exc:
        get_template({"thanks": ("Hi {frist_name}",)}, "thanks")
    assert "{first_name}" in (exc.value.hint or "")


def test_unknown_template_lists_known() -> None:
    """Asking for a template that does not exist names the known ones."""
    with pytest.raises(UsageError, match="known: a, b"):
        get_template({"b": ("x",), "a": ("y",)}, "thx")


def test_template_names() -> None:
    """Names are plain identifiers."""
    assert validate_name("thanks-2") == "thanks-2"
    for bad in ["", "a b", "../x", "-x", "x" * 65]:
        with pytest.raises(UsageError):
            validate_name(bad)


def test_variant_stable_per_customer() -> None:
    """The same customer always gets the same variant for a template."""
    assert variant_index("thanks", "u1", 3) == variant_index("thanks", "u1", 3)
    assert variant_index("thanks", "u1", 1) == 0
    seen = {variant_index("thanks", f"u{i}", 3) for i in range(30)}
    assert seen == {0, 1, 2}


def test_neighbours_differ() -> None:
    """In a list, no two consecutive customers get the same variant."""
    ids = [f"user{i}" for i in range(200)]
    idx = assign_variants("thanks", ids, 2)
    assert all(a != b for a, b in itertools.pairwise(idx))
    idx3 = assign_variants("thanks", ids, 3)
    assert all(a != b for a, b in itertools.pairwise(idx3))
    assert assign_variants("thanks", ids[:3], 1) == [0, 0, 0]


def test_render_for_uses_index() -> None:
    """render_for picks the given variant, else the customer's stable one."""
    t = Template("t", ("A {first_name}", "B {first_name}"))
    assert render_for(t, customer_id="x", customer_name="Jo", page_name="P", index=1) == "B Jo"
    stable = render_for(t, customer_id="x", customer_name="Jo", page_name="P")
    assert stable == ["A Jo", "B Jo"][variant_index("t", "x", 2)]
