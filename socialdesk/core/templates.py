"""Saved replies: placeholder validation, rendering, and variant rotation (PRODUCT.md §5).

Called by ``core.ack`` (one rendered text per thread), the ``reply --template`` command and the
``templates`` commands (``add`` validates before the config is written). Templates live in the
config as ``[templates.NAME] text = ["variant", ...]``; the config module also rejects an unknown
placeholder when it loads, using :func:`validate_text`.

Placeholders: ``{first_name}``, ``{name}``, ``{page}``; ``{{``/``}}`` are literal braces. Nothing
else is allowed inside braces (no attribute access, indexing, conversions or format specs), so a
template can never reach into Python objects.

Variants rotate per customer: :func:`variant_index` is a stable hash of (template, customer id),
and :func:`assign_variants` also makes neighbours in a list differ when there are two or more.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from socialdesk.errors import UsageError

PLACEHOLDERS: tuple[str, ...] = ("first_name", "name", "page")
"""The only names a template may use."""

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
"""Template names: what a TOML bare key and a shell argument both take without quoting."""

FALLBACK_NAME = "there"
"""Stands in for a customer name the API did not give ("Hi there")."""

_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Template:
    """A named template with its variants."""

    name: str
    variants: tuple[str, ...]


def validate_name(name: str) -> str:
    """``name`` if it is a valid template name, else :class:`UsageError`."""
    if not NAME_RE.match(name):
        raise UsageError(
            f"invalid template name {name!r}",
            hint="use letters, digits, '-' and '_' (up to 64, starting with a letter or digit)",
        )
    return name


def validate_text(text: str, *, where: str = "template") -> None:
    """Refuse unknown placeholders and any brace syntax other than ``{name}`` / ``{{`` / ``}}``."""
    if not text.strip():
        raise UsageError(f"{where}: a variant is empty")
    bad = sorted({ch for ch in text if _UNSAFE.match(ch)})  # textcheck would refuse them
    if bad:
        names = ", ".join(f"U+{ord(ch):04X}" for ch in bad)
        raise UsageError(
            f"{where}: holds control or bidirectional characters ({names})",
            hint="they would be refused at every send; remove them",
        )
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise UsageError(
            f"{where}: unbalanced braces in {text!r} ({exc})",
            hint="write {{ and }} for literal braces",
        ) from exc
    for _, field, spec, conversion in fields:
        if field is None:
            continue
        if field not in PLACEHOLDERS or spec or conversion:
            shown = "{" + field + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            raise UsageError(
                f"{where}: unknown placeholder {shown}",
                hint="placeholders are " + ", ".join("{" + p + "}" for p in PLACEHOLDERS),
            )


def get_template(templates: Mapping[str, Sequence[str]], name: str) -> Template:
    """The template ``name`` (validated), or :class:`UsageError` naming the known ones."""
    variants = templates.get(name)
    if variants is None:
        known = ", ".join(sorted(templates)) or "none yet"
        raise UsageError(
            f"no template named {name!r} (known: {known})",
            hint="see `socialdesk templates`, or add one with `socialdesk templates add`",
        )
    if not variants:
        raise UsageError(f"template {name!r} has no text")
    for i, v in enumerate(variants):
        validate_text(v, where=f"template {name!r} variant {i + 1}")
    return Template(name, tuple(variants))


def _safe(value: str) -> str:
    """A customer or page name made fit for an outgoing message (controls and bidi removed)."""
    return " ".join(_UNSAFE.sub("", value).split())


def render(text: str, *, customer_name: str, page_name: str) -> str:
    """Fill the placeholders of one variant."""
    name = _safe(customer_name) or FALLBACK_NAME
    first = name.split()[0] if name.split() else FALLBACK_NAME
    return text.format(first_name=first, name=name, page=_safe(page_name))


def variant_index(template_name: str, customer_id: str, n: int) -> int:
    """A stable choice among ``n`` variants for this customer (same on every run and machine)."""
    if n <= 1:
        return 0
    digest = hashlib.sha256(f"{template_name}\x00{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % n


def assign_variants(template_name: str, customer_ids: Sequence[str], n: int) -> list[int]:
    """Variant indexes for a list of customers: stable per customer, but never the same as the
    previous neighbour's when ``n >= 2`` (the next variant is taken instead)."""
    out: list[int] = []
    for cid in customer_ids:
        idx = variant_index(template_name, cid, n)
        if out and n >= 2 and idx == out[-1]:
            idx = (idx + 1) % n
        out.append(idx)
    return out


def render_for(
    template: Template,
    *,
    customer_id: str,
    customer_name: str,
    page_name: str,
    index: int | None = None,
) -> str:
    """The text this customer gets from ``template`` (variant ``index`` or their stable one)."""
    n = len(template.variants)
    i = variant_index(template.name, customer_id, n) if index is None else index % n
    return render(template.variants[i], customer_name=customer_name, page_name=page_name)
