"""Saved replies: placeholder validation, rendering, and variant rotation (PRODUCT.md §5).

Called by ``core.ack`` (one rendered text per thread), ``core.replying`` and the ``templates``
commands (:func:`add_template` validates before the config is written). Templates live in the
config as ``[templates.NAME] text = ["variant", ...]``; what makes a variant valid is defined once,
in ``config.template_problem``, used when the config loads and by :func:`validate_text`.

Placeholders: ``{first_name}``, ``{name}``, ``{page}``; ``{{``/``}}`` are literal braces. Nothing
else is allowed inside braces (no attribute access, indexing, conversions or format specs), so a
template can never reach into Python objects.

Variants rotate per customer: :func:`variant_index` is a stable hash of (template, customer id),
and :func:`assign_variants` also makes neighbours in a list differ when there are two or more.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from socialdesk.config import TEMPLATE_PLACEHOLDERS, Config, template_problem, update_config
from socialdesk.errors import ConfigError, Reason, UsageError
from socialdesk.models import Person
from socialdesk.paths import Paths
from socialdesk.sanitize import strip

PLACEHOLDERS: tuple[str, ...] = TEMPLATE_PLACEHOLDERS
"""The only names a template may use (defined once, in ``config``)."""

FALLBACK_NAME = "there"
"""Stands in for a customer name the API did not give ("Hi there")."""


@dataclass(frozen=True)
class Template:
    """A named template with its variants."""

    name: str
    variants: tuple[str, ...]


def validate_name(name: str) -> str:
    """``name`` if it is a valid template name (the config's one name rule), else UsageError."""
    try:
        Config().with_template(name, ("x",))
    except ConfigError as exc:
        raise UsageError(f"invalid template name {name!r}", hint=exc.hint) from None
    return name


def validate_text(text: str, *, where: str = "template") -> None:
    """:class:`UsageError` for an invalid variant (the rule is ``config.template_problem``)."""
    problem = template_problem(text)
    if problem is not None:
        message, hint = problem
        raise UsageError(f"{where}: {message}", hint=hint)


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


def name_for_template(person: Person) -> str:
    """The customer name placeholders may use: a real name only, never an Instagram handle.

    Instagram gives a ``username`` and an IG-scoped id, no name (INSTAGRAM_API.md §3.6): a
    handle such as ``@you.are.scammers`` is not a name and must not be typed into a greeting,
    so ``{first_name}`` and ``{name}`` fall back to :data:`FALLBACK_NAME` for it.
    """
    return person.real_name


def _safe(value: str) -> str:
    """A customer or page name made fit for an outgoing message.

    Escape sequences go whole (not just their ESC byte, which would leave payloads such as
    ``]52;c;…`` in the text sent to the customer), with control, bidi and invisible characters.
    """
    return strip(value)


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


def add_template(paths: Paths, name: str, texts: Sequence[str], *, replace: bool = False) -> None:
    """Save template ``name`` with its variants in the config (atomically, 0600).

    Everything is checked before the file is written; an existing template of that name is kept
    unless ``replace``.
    """
    validate_name(name)
    for i, t in enumerate(texts, 1):
        validate_text(t, where=f"variant {i}")
    with update_config(paths) as editor:
        if name in editor.config.templates and not replace:
            raise UsageError(
                f"a template named {name!r} exists",
                hint="replace it on purpose, or pick a new name",
                reason=Reason.TEMPLATE_EXISTS,
            )
        editor.config = editor.config.with_template(name, tuple(texts))
