"""The ``fields=`` parser: nesting, modifiers, syntax errors, and the round trip."""

from __future__ import annotations

import pytest

from socialdesk.sandbox.fields import FieldSel, FieldsError, parse_fields, serialize


def test_flat_list() -> None:
    """Comma-separated names parse in order, without children."""
    assert parse_fields("id, name ,updated_time") == (
        FieldSel("id"),
        FieldSel("name"),
        FieldSel("updated_time"),
    )


def test_nested_with_modifiers() -> None:
    """Modifiers and nested braces attach to their field."""
    (sel,) = parse_fields(
        "comments.filter(stream).order(reverse_chronological).limit(5).summary(true){id,parent{id}}"
    )
    assert sel.name == "comments"
    assert sel.mods == {
        "filter": "stream",
        "order": "reverse_chronological",
        "limit": "5",
        "summary": "true",
    }
    assert sel.children == (FieldSel("id"), FieldSel("parent", children=(FieldSel("id"),)))


def test_after_cursor_modifier() -> None:
    """``.after(c)`` carries an opaque cursor through."""
    (sel,) = parse_fields("messages.limit(2).after(QVFIUmxx){id}")
    assert sel.mods == {"limit": "2", "after": "QVFIUmxx"}


def test_serialize_round_trip() -> None:
    """``serialize`` gives back a string that parses to the same selection."""
    text = "id,messages.limit(10){id,from,attachments{name,image_data{url}}},snippet"
    assert parse_fields(serialize(parse_fields(text))) == parse_fields(text)


@pytest.mark.parametrize("bad", ["id,{x}", "messages{id", "a.limit(3", "a.limit3", "id}"])
def test_syntax_errors_are_2500(bad: str) -> None:
    """Malformed expressions raise code 2500 "Syntax error"."""
    with pytest.raises(FieldsError) as info:
        parse_fields(bad)
    assert info.value.code == 2500
    assert "Syntax error" in info.value.message


def test_unknown_modifier_and_alias_are_100() -> None:
    """Unsupported modifiers and ``.as()`` aliases are code-100 errors."""
    for bad in ("id.frobnicate(1)", "name.as(title)"):
        with pytest.raises(FieldsError) as info:
            parse_fields(bad)
        assert info.value.code == 100
