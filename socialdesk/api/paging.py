"""Cursor paging over Graph edges: follow ``paging.next`` until it is absent.

Rules (GRAPH_API.md §2): a short or even empty page with a ``next`` link is not the end; only
the absence of ``next`` is. ``next`` links may carry ``access_token=``: it is stripped before a
link is followed, logged or handed out. Cursors never leave this module except inside such a
stripped link (the models' ``messages_next``/``comments_next``, which nobody stores). A ``next``
page with data whose ``next`` link was seen before ends the walk, and an empty page may point
back at most a few times (a server bug must not make a sync loop forever). Called by
``api/graph.py``; ``strip_token`` also by ``api/client.py`` and ``api/parse.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from socialdesk.api.errors import MalformedResponse, PagingLoop
from socialdesk.api.surrogates import scrub

log = logging.getLogger(__name__)

_SECRET_PARAMS = frozenset({"access_token", "appsecret_proof"})


class PagingClient(Protocol):
    """The part of ``GraphClient`` paging needs."""

    def get(
        self, path: str, params: Mapping[str, str] | None = None, *, edge: str = ""
    ) -> dict[str, Any]: ...

    def get_url(self, url: str, *, edge: str = "") -> dict[str, Any]: ...


def strip_token(url: str) -> str:
    """``url`` without ``access_token`` (and ``appsecret_proof``, which the client re-adds)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _SECRET_PARAMS
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


def page_data(response: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``data`` list of one page; items that are not JSON objects are dropped."""
    data = response.get("data")
    if not isinstance(data, list):
        raise MalformedResponse(
            "the Graph API returned a page without a data list",
            "try again; if it persists, report it with the command you ran",
        )
    return [item for item in data if isinstance(item, dict)]


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
    client: PagingClient, first: dict[str, Any], edge: str, visits: dict[str, int]
) -> Iterator[list[dict[str, Any]]]:
    response = first
    while True:
        items = page_data(response)
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
        visits[link] = seen + 1
        response = client.get_url(link, edge=edge)


def iter_pages(
    client: PagingClient,
    path: str,
    params: Mapping[str, str] | None = None,
    *,
    edge: str = "",
) -> Iterator[list[dict[str, Any]]]:
    """The ``data`` of every page of an edge, one list per HTTP response, in API order."""
    first = client.get(path, params, edge=edge)
    yield from _follow(client, first, edge, {})


def iter_from_link(
    client: PagingClient, link: str, *, edge: str = ""
) -> Iterator[list[dict[str, Any]]]:
    """Like :func:`iter_pages`, starting from an absolute (stripped) ``next`` link."""
    link = strip_token(link)
    first = client.get_url(link, edge=edge)
    yield from _follow(client, first, edge, {link: 1})
