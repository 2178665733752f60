"""The Graph ``fields=`` parser and serialiser used by the sandbox's renderer.

Grammar (as Graph accepts it): ``name(.modifier(arg))*({nested fields})?`` separated by commas,
e.g. ``id,messages.limit(10){id,from,attachments{name}},comments.filter(stream).summary(true)``.
``render`` walks the parsed selection; ``handler`` turns ``FieldsError`` into the Graph error
envelope; ``paging`` serialises nested selections back into ``next`` links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MODIFIERS = frozenset({"limit", "order", "filter", "summary", "after", "before", "since", "until"})
_NAME = re.compile(r"[A-Za-z0-9_]+")


class FieldsError(Exception):
    """A malformed ``fields`` value; ``code`` is the Graph error code to answer with."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class FieldSel:
    """One selected field: its name, its modifiers and, for edges/objects, nested fields."""

    name: str
    mods: dict[str, str] = field(default_factory=dict)
    children: tuple[FieldSel, ...] | None = None


def parse_fields(text: str) -> tuple[FieldSel, ...]:
    """Parse a ``fields`` parameter; raise ``FieldsError`` (2500 syntax, 100 bad modifier)."""
    parser = _Parser(text)
    result = parser.fields()
    if parser.pos != len(text):
        raise parser.syntax("end of string")
    return result


def serialize(sels: tuple[FieldSel, ...]) -> str:
    """The inverse of ``parse_fields`` (canonical spacing), for ``next`` links."""
    parts = []
    for sel in sels:
        out = sel.name + "".join(f".{k}({v})" for k, v in sel.mods.items())
        if sel.children is not None:
            out += "{" + serialize(sel.children) + "}"
        parts.append(out)
    return ",".join(parts)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def syntax(self, expected: str) -> FieldsError:
        found = self.text[self.pos] if self.pos < len(self.text) else "end of string"
        return FieldsError(
            f'Syntax error "Expected {expected} instead of "{found}"." '
            f"at character {self.pos}: {self.text}",
            2500,
        )

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def name(self) -> str:
        self.skip_ws()
        match = _NAME.match(self.text, self.pos)
        if match is None:
            raise self.syntax("field name")
        self.pos = match.end()
        return match.group()

    def fields(self) -> tuple[FieldSel, ...]:
        out = [self.one()]
        self.skip_ws()
        while self.pos < len(self.text) and self.text[self.pos] == ",":
            self.pos += 1
            self.skip_ws()
            if self.pos >= len(self.text) or self.text[self.pos] == "}":
                break  # Graph tolerates a trailing comma
            out.append(self.one())
            self.skip_ws()
        return tuple(out)

    def one(self) -> FieldSel:
        name = self.name()
        mods: dict[str, str] = {}
        children: tuple[FieldSel, ...] | None = None
        while self.pos < len(self.text) and self.text[self.pos] == ".":
            self.pos += 1
            mod = self.name()
            if self.pos >= len(self.text) or self.text[self.pos] != "(":
                raise self.syntax('"("')
            end = self.text.find(")", self.pos)
            if end < 0:
                raise self.syntax('")"')
            arg = self.text[self.pos + 1 : end].strip()
            self.pos = end + 1
            if mod == "as":
                raise FieldsError(f"(#100) Unknown fields: {name}.as({arg}).", 100)
            if mod not in MODIFIERS:
                raise FieldsError(f"(#100) Unknown field modifier ({mod}) on field ({name})", 100)
            mods[mod] = arg
        self.skip_ws()
        if self.pos < len(self.text) and self.text[self.pos] == "{":
            self.pos += 1
            self.skip_ws()
            children = self.fields()
            self.skip_ws()
            if self.pos >= len(self.text) or self.text[self.pos] != "}":
                raise self.syntax('"}"')
            self.pos += 1
        return FieldSel(name=name, mods=mods, children=children)
