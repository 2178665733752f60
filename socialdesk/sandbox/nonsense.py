"""Nonsense from the API on demand: the bodies and mutations behind the hostile fault kinds.

``handler`` calls these once ``FaultSpec.pick`` chose a kind (see ``faults`` for the grammar).
Nothing here touches the sandbox state; each function turns an answer into the broken answer a
client must survive (issue 12 "Nonsense from the API"):

- ``html_page``: the HTML a proxy answers with a 502;
- ``error_in_200``: a Graph error envelope with HTTP 200;
- ``wrong_types``: null ids, numbers for strings, objects for lists;
- ``padded``: the real answer grown to N MB (built in memory: 10 MB is fine);
- ``huge_body``: a valid JSON list of N MB produced chunk by chunk, never held in memory;
- ``foreign_next``: ``paging.next`` pointing at another host;
- ``endless_next`` / ``endless_step``: a ``next`` link whose every page carries a fresh cursor.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

Json = dict[str, Any]

HTML_502 = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    b"<body><center><h1>502 Bad Gateway</h1></center><hr><center>proxy</center>\n"
    b"<!-- a padding comment, as some proxies send, so browsers show the page -->\n"
    b"</body></html>\n"
)
_ENDLESS = "endless:"


def html_page() -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of a proxy's 502 page (no Graph headers at all)."""
    return 502, [("Content-Type", "text/html"), ("Server", "proxy")], HTML_502


def error_in_200(trace: str) -> Json:
    """A transient Graph error envelope, to be sent with HTTP 200."""
    return {
        "error": {
            "message": "An unexpected error has occurred. Please retry your request later.",
            "type": "OAuthException",
            "code": 2,
            "is_transient": True,
            "fbtrace_id": trace,
        }
    }


def _first_string_key(item: Json) -> str | None:
    for key, value in item.items():
        if key != "id" and isinstance(value, str):
            return key
    return None


def _first_list_key(item: Json) -> str | None:
    for key, value in item.items():
        if isinstance(value, dict) and isinstance(value.get("data"), list):
            return key
    return None


def _break(item: Json, variant: int) -> None:
    """One of three type errors, in place."""
    if variant == 0:
        item["id"] = None
        return
    if variant == 1:
        key = _first_string_key(item)
        if key is not None:
            item[key] = 12345
            return
        item["id"] = 12345
        return
    key = _first_list_key(item)
    if key is not None:
        entries = item[key]["data"]
        item[key]["data"] = {str(i): e for i, e in enumerate(entries)}
        return
    item["id"] = {"id": item.get("id")}


def wrong_types(payload: Json) -> Json:
    """The answer with wrong types: each listed item gets one (null id, number, object)."""
    data = payload.get("data")
    if isinstance(data, list):
        for i, item in enumerate(data):
            if isinstance(item, dict):
                _break(item, i % 3)
        if not data:
            payload["data"] = {"0": None}
        return payload
    if isinstance(data, dict):
        return payload
    _break(payload, 0)
    return payload


def padded(payload: Json, megabytes: float) -> Json:
    """The answer grown past ``megabytes`` MB: the first text field of the first item (a
    message of that size), else a top-level field."""
    size = int(megabytes * 1024 * 1024)
    data = payload.get("data")
    target: Json = payload
    key = "padding"
    if isinstance(data, list) and data and isinstance(data[0], dict):
        target = data[0]
        key = _first_string_key(target) or "message"
    elif _first_string_key(payload) is not None:
        key = str(_first_string_key(payload))
    target[key] = "x" * size
    return payload


def huge_body(megabytes: float, chunk_items: int = 2000) -> tuple[int, Iterator[bytes]]:
    """``(length, chunks)`` of a valid JSON list of about ``megabytes`` MB, made lazily."""
    item = b'{"id":"t_%015d","updated_time":"2026-11-22T09:50:48+0000"}'
    one = len(item % 0)
    head, tail = b'{"data":[', b"]}"
    count = max(1, int(megabytes * 1024 * 1024) // (one + 1))
    length = len(head) + count * one + (count - 1) + len(tail)

    def chunks() -> Iterator[bytes]:
        yield head
        for start in range(0, count, chunk_items):
            end = min(count, start + chunk_items)
            parts = [item % n for n in range(start, end)]
            body = b",".join(parts)
            yield body if start == 0 else b"," + body
        yield tail

    return length, chunks()


def _with_params(url: str, params: dict[str, str], *, base: str | None = None) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(params)
    origin = base if base is not None else f"{parts.scheme}://{parts.netloc}"
    return f"{origin}{parts.path}?{urlencode(query)}"


def foreign_next(payload: Json, request_url: str, foreign: str) -> Json:
    """``paging.next`` (made up from the request when absent) pointing at ``foreign``."""
    paging = payload.setdefault("paging", {})
    if not isinstance(paging, dict):
        return payload
    nxt = paging.get("next")
    source = nxt if isinstance(nxt, str) else request_url
    paging["next"] = _with_params(source, {}, base=foreign.rstrip("/"))
    return payload


def endless_cursor(step: int) -> str:
    """A cursor marking step ``step`` of an endless chain (fresh at every step)."""
    raw = f"{_ENDLESS}{step}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def endless_step(cursor: str | None) -> int | None:
    """The step of an endless-chain cursor, or None for any other cursor."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if not raw.startswith(_ENDLESS):
        return None
    try:
        return int(raw[len(_ENDLESS) :])
    except ValueError:
        return None


def endless_next(payload: Json, request_url: str, step: int) -> Json:
    """The answer with a ``next`` link to step ``step + 1`` (same data again, new cursor)."""
    paging = payload.setdefault("paging", {})
    if not isinstance(paging, dict):
        return payload
    drop = ("__paging_token", "__previous", "since", "until", "before")
    parts = urlsplit(request_url)
    query = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in drop}
    query["after"] = endless_cursor(step + 1)
    paging["next"] = f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(query)}"
    cursors = paging.setdefault("cursors", {})
    if isinstance(cursors, dict):
        cursors["after"] = query["after"]
    return payload
