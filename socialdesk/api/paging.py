"""Cursor paging over Graph edges: follow ``paging.next`` until it is absent, within a bound.

Rules (GRAPH_API.md §2): a short or even empty page with a ``next`` link is not the end; only
the absence of ``next`` is. ``next`` links may carry ``access_token=``: it is stripped before a
link is followed, logged or handed out. A link's query is kept as Graph wrote it, segment by
segment: time-based links hold bare keys (``…&since&__paging_token=…&__previous``) that a
``parse_qsl``/``urlencode`` round trip would turn into ``since=`` (research/GRAPH_FIDELITY.md
T5), so this module edits queries as lists of raw segments. Cursors never leave this module
except inside such a stripped link (the models' ``messages_next``/``comments_next``, which nobody
stores).

Every walk ends: a page with data whose ``next`` link was seen before raises
:class:`PagingLoop`, an empty page may point back at most a few times, and a walk longer than
its ``max_pages`` (an endless chain of fresh cursors) raises :class:`PagingLimit`. Called by
``api/graph.py``; the query helpers also by ``api/client.py`` and ``api/parse.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any, Protocol
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

from socialdesk.api.errors import MalformedResponse, PagingLimit, PagingLoop
from socialdesk.api.surrogates import scrub

log = logging.getLogger(__name__)

SECRET_PARAMS = frozenset({"access_token", "appsecret_proof"})

DEFAULT_MAX_PAGES = 1000
"""Pages per walk unless the caller knows better (100 000 items at 100 a page)."""


class PagingClient(Protocol):
    """The part of ``GraphClient`` paging needs."""

    def get(
        self, path: str, params: Mapping[str, str] | None = None, *, edge: str = ""
    ) -> dict[str, Any]: ...

    def get_url(self, url: str, *, edge: str = "") -> dict[str, Any]: ...


# ---- raw query segments ----------------------------------------------------------------------


def segments(query: str) -> list[str]:
    """The ``&``-separated segments of a raw query string, exactly as written (empty ones go)."""
    return [s for s in query.split("&") if s]


def segment_key(segment: str) -> str:
    """The decoded key of one segment (``since`` for both ``since`` and ``since=``)."""
    return unquote_plus(segment.split("=", 1)[0])


def encode_segment(key: str, value: str) -> str:
    """``key=value`` percent-encoded as a query segment."""
    return f"{quote(key, safe='')}={quote(value, safe='')}"


def encode_params(params: Mapping[str, str]) -> list[str]:
    """Query segments for a parameter mapping (always ``key=value``, values encoded)."""
    return [encode_segment(k, str(v)) for k, v in params.items()]


def replace_param(query: list[str], key: str, value: str | None) -> list[str]:
    """``query`` with every ``key`` segment removed, then ``key=value`` appended (unless None)."""
    out = [s for s in query if segment_key(s) != key]
    if value is not None:
        out.append(encode_segment(key, value))
    return out


def param_value(query: list[str], key: str) -> str | None:
    """The decoded value of the last ``key`` segment (``""`` for a bare key), or None."""
    found: str | None = None
    for s in query:
        if segment_key(s) == key:
            found = unquote_plus(s.split("=", 1)[1]) if "=" in s else ""
    return found


def strip_token(url: str) -> str:
    """``url`` without ``access_token`` (and ``appsecret_proof``, which the client re-adds).

    Every other segment is kept byte for byte, bare keys included.
    """
    parts = urlsplit(url)
    if not parts.query:
        return url
    kept = [s for s in segments(parts.query) if segment_key(s).lower() not in SECRET_PARAMS]
    return urlunsplit(parts._replace(query="&".join(kept)))


def with_limit(link: str, size: int) -> str:
    """``link`` asking for ``size`` items per page, everything else as Graph wrote it.

    A nested edge's ``next`` link keeps the nested ``limit`` (25); the cursor does not depend on
    it, so the older messages of a long thread are read 100 at a time instead. Callers pass the
    client's remembered page size for the edge (``GraphClient.page_size_for``).
    """
    parts = urlsplit(link)
    query = replace_param(segments(parts.query), "limit", str(max(1, size)))
    return urlunsplit(parts._replace(query="&".join(query)))


# ---- pages -----------------------------------------------------------------------------------


def page_items(response: Mapping[str, Any]) -> list[object]:
    """The raw ``data`` list of one page (items of any type: the caller checks each one)."""
    data = response.get("data")
    if not isinstance(data, list):
        raise MalformedResponse(
            "the Graph API returned a page without a data list",
            "try again; if it persists, report it with the command you ran",
        )
    return list(data)


def page_data(response: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``data`` list of one page; items that are not JSON objects are dropped."""
    return [item for item in page_items(response) if isinstance(item, dict)]


def next_link(container: Mapping[str, Any] | None) -> str | None:
    """The stripped ``paging.next`` of a page (or of a nested edge object), if any."""
    if not isinstance(container, Mapping):
        return None
    paging = container.get("paging")
    if not isinstance(paging, Mapping):
        return None
    link = paging.get("next")
    if not isinstance(link, str) or not link:
        return None
    return strip_token(scrub(link))


# An empty page may legitimately point at the same page again (the server skipped filtered items
# and asks to try once more); a page *with data* pointing back is a loop. Bounded either way.
MAX_REVISITS = 3


def _follow(
    client: PagingClient,
    first: dict[str, Any],
    edge: str,
    visits: dict[str, int],
    max_pages: int,
) -> Iterator[list[object]]:
    response = first
    pages = 0
    while True:
        items = page_items(response)
        pages += 1
        yield items
        link = next_link(response)
        if link is None:
            return
        seen = visits.get(link, 0)
        if seen and (items or seen >= MAX_REVISITS):
            # Stopping quietly would make a cut-short walk look complete (and let a caller move
            # a watermark past items never read), so a loop is an error the caller must see.
            raise PagingLoop(
                f"the Graph API repeated a page of {edge or 'results'}; stopped before the end",
                hint="try again later: the next run resumes where this one stopped",
            )
        if pages >= max_pages:
            raise PagingLimit(
                f"the Graph API kept sending next links for {edge or 'results'}:"
                f" stopped after {pages} pages",
                hint="try again later; if it persists, report it (what was read is kept)",
            )
        visits[link] = seen + 1
        response = client.get_url(link, edge=edge)


def iter_raw_pages(
    client: PagingClient,
    path: str,
    params: Mapping[str, str] | None = None,
    *,
    edge: str = "",
    max_pages: int = DEFAULT_MAX_PAGES,
) -> Iterator[list[object]]:
    """The raw ``data`` of every page of an edge, one list per HTTP response, in API order."""
    first = client.get(path, params, edge=edge)
    yield from _follow(client, first, edge, {}, max(1, max_pages))


def iter_raw_from_link(
    client: PagingClient, link: str, *, edge: str = "", max_pages: int = DEFAULT_MAX_PAGES
) -> Iterator[list[object]]:
    """Like :func:`iter_raw_pages`, starting from an absolute (stripped) ``next`` link."""
    link = strip_token(link)
    first = client.get_url(link, edge=edge)
    yield from _follow(client, first, edge, {link: 1}, max(1, max_pages))


def iter_pages(
    client: PagingClient,
    path: str,
    params: Mapping[str, str] | None = None,
    *,
    edge: str = "",
    max_pages: int = DEFAULT_MAX_PAGES,
) -> Iterator[list[dict[str, Any]]]:
    """:func:`iter_raw_pages` keeping only the items that are JSON objects."""
    for items in iter_raw_pages(client, path, params, edge=edge, max_pages=max_pages):
        yield [item for item in items if isinstance(item, dict)]


def iter_from_link(
    client: PagingClient, link: str, *, edge: str = "", max_pages: int = DEFAULT_MAX_PAGES
) -> Iterator[list[dict[str, Any]]]:
    """:func:`iter_raw_from_link` keeping only the items that are JSON objects."""
    for items in iter_raw_from_link(client, link, edge=edge, max_pages=max_pages):
        yield [item for item in items if isinstance(item, dict)]
