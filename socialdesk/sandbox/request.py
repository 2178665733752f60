"""A parsed request and a resolved route: what ``handler`` and ``instagram`` pass around.

``handler`` parses every request into a ``Request`` and resolves it into a ``Route`` (an
endpoint with its counter name and the limits that apply); ``instagram`` builds the routes of
the Instagram nodes the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .fields import FieldSel, parse_fields
from .render import Ctx, Json, find, parse_limit


@dataclass
class Request:
    """A parsed request."""

    method: str
    base: str
    segments: list[str]
    query: dict[str, str]
    params: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Route:
    """A resolved endpoint: its counter name, whether it lists, which limits apply.

    ``cost`` is the request's ``limit`` × nested limit (what the ``heavy`` fault looks at).
    ``ig_id`` is set for Instagram Graph calls (media, comments): they count against the
    account's ``instagram`` budget and report it; ``ig_messaging`` for Instagram DMs, paced per
    Instagram account.
    """

    edge: str
    run: Callable[[Ctx, str | None], Json]
    is_list: bool = False
    conversations_api: bool = False
    messenger: bool = False
    cost: int = 0
    ig_id: str | None = None
    ig_messaging: str | None = None


def fields_of(req: Request) -> tuple[FieldSel, ...] | None:
    """The request's ``fields`` selection (None when absent or blank)."""
    raw = req.params.get("fields")
    if raw is None or str(raw).strip() == "":
        return None
    return parse_fields(str(raw))


def link_params(req: Request) -> dict[str, str]:
    """The query parameters a ``next``/``previous`` link carries over."""
    return {k: v for k, v in req.query.items() if k not in ("after", "before")}


def nested_cost(req: Request, nested: str) -> int:
    """``limit`` × the nested edge's limit (1 when none): how heavy a listing is."""
    limit = parse_limit(req.params.get("limit"))
    inner = find(fields_of(req), nested)
    return limit * (parse_limit(inner.mods.get("limit")) if inner is not None else 1)
