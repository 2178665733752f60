"""Following paging.next (api/paging.py) through the client."""

from __future__ import annotations

import httpx
import pytest

from socialdesk.api.errors import PagingLoop
from socialdesk.api.paging import MAX_REVISITS, iter_from_link, iter_pages, strip_token
from socialdesk.errors import ExitCode
from tests.api.conftest import TOKEN, FakeTime, Recorder, load, make_client, ok


def test_strip_token_removes_only_secrets() -> None:
    """access_token and appsecret_proof go; cursors and fields stay."""
    url = f"https://graph.facebook.com/v26.0/1/feed?access_token={TOKEN}&limit=25&after=QQ&appsecret_proof=ab"
    out = strip_token(url)
    assert TOKEN not in out and "appsecret_proof" not in out
    assert "limit=25" in out and "after=QQ" in out


def test_follows_next_through_an_empty_page_to_the_last() -> None:
    """An empty page with next is not the end; the page without next is."""
    recorder = Recorder(
        [
            ok(load("conversations_p1.json")),
            ok(load("conversations_p2_empty.json")),
            ok(load("conversations_p3.json")),
        ]
    )
    client = make_client(recorder, FakeTime())
    pages = list(iter_pages(client, "/111/conversations", {"limit": "100"}, edge="conversations"))
    assert [len(p) for p in pages] == [2, 0, 1]
    assert client.calls == 3
    for request in recorder.requests:
        assert "access_token" not in str(request.url)
        assert TOKEN not in str(request.url)
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert recorder.requests[1].url.params["after"] == "QVFIU1"
    assert recorder.requests[2].url.params["after"] == "QVFIU2"


def test_single_page_makes_one_call() -> None:
    """A first page without next ends paging after one call."""
    recorder = Recorder([ok({"data": [{"id": "1"}]})])
    client = make_client(recorder, FakeTime())
    assert list(iter_pages(client, "/111/feed")) == [[{"id": "1"}]]
    assert client.calls == 1


def test_repeating_next_link_raises_after_yielding_what_was_read() -> None:
    """A next link that repeats ends the walk with PagingLoop (never a silent, partial end)."""
    loop = {
        "data": [{"id": "1"}],
        "paging": {"next": "https://graph.facebook.com/v26.0/111/feed?after=A"},
    }
    recorder = Recorder(lambda request: ok(loop))
    client = make_client(recorder, FakeTime())
    pages: list[list[dict[str, object]]] = []
    with pytest.raises(PagingLoop) as info:
        for page in iter_pages(client, "/111/feed", edge="feed"):
            pages.append(page)
    assert len(pages) == 2
    assert client.calls == 2
    assert info.value.exit_code == ExitCode.UNAVAILABLE


def test_two_link_cycle_raises() -> None:
    """Empty pages cycling A → B → A raise after a bounded number of revisits."""
    base = "https://graph.facebook.com/v26.0/111/feed"

    def handler(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after", "")
        nxt = f"{base}?after={'B' if after in ('', 'A') else 'A'}"
        return ok({"data": [], "paging": {"next": nxt}})

    client = make_client(Recorder(handler), FakeTime())
    with pytest.raises(PagingLoop):
        list(iter_pages(client, "/111/feed"))
    assert 3 <= client.calls <= 1 + 2 * MAX_REVISITS


def test_empty_page_pointing_at_itself_is_retried_once_more() -> None:
    """An empty page whose next is the page just asked for is followed again (then data comes)."""
    link = "https://graph.facebook.com/v26.0/111/feed?after=A"
    recorder = Recorder(
        [
            ok({"data": [{"id": "1"}], "paging": {"next": link}}),
            ok({"data": [], "paging": {"next": link}}),
            ok({"data": [{"id": "2"}]}),
        ]
    )
    client = make_client(recorder, FakeTime())
    assert list(iter_pages(client, "/111/feed")) == [[{"id": "1"}], [], [{"id": "2"}]]


def test_iter_from_link_starts_at_a_stripped_link() -> None:
    """Following a nested next link sends neither the token nor access_token in the URL."""
    link = load("conversations_p1.json")["data"][0]["messages"]["paging"]["next"]
    recorder = Recorder([ok({"data": [{"id": "m_9"}]})])
    client = make_client(recorder, FakeTime())
    assert list(iter_from_link(client, link, edge="messages")) == [[{"id": "m_9"}]]
    url = str(recorder.requests[0].url)
    assert "access_token" not in url and "after=QVFIUmZA" in url


def test_page_without_data_is_malformed() -> None:
    """A page whose data is not a list raises MalformedResponse."""
    from socialdesk.api.errors import MalformedResponse

    recorder = Recorder([ok({"paging": {}})])
    client = make_client(recorder, FakeTime())
    with pytest.raises(MalformedResponse):
        list(iter_pages(client, "/111/feed"))


def test_with_limit_replaces_only_the_limit_and_keeps_bare_keys() -> None:
    """with_limit sets limit and keeps every other segment byte for byte."""
    from socialdesk.api.paging import with_limit

    link = "https://graph.facebook.com/v26.0/1/feed?limit=25&until=1624385168&since&__previous"
    assert with_limit(link, 100) == (
        "https://graph.facebook.com/v26.0/1/feed?until=1624385168&since&__previous&limit=100"
    )
    assert with_limit("https://graph.facebook.com/v26.0/1/c?after=QQ%3D%3D", 0).endswith(
        "after=QQ%3D%3D&limit=1"
    )


def test_strip_token_keeps_bare_keys() -> None:
    """Stripping the token never re-encodes the rest of a link."""
    link = f"https://graph.facebook.com/v26.0/1/posts?since&access_token={TOKEN}&__previous"
    assert strip_token(link) == "https://graph.facebook.com/v26.0/1/posts?since&__previous"


def test_an_endless_chain_of_fresh_cursors_stops_at_the_page_bound() -> None:
    """Fresh next links forever: PagingLimit after max_pages, with what was read yielded."""
    from socialdesk.api.errors import PagingLimit

    counter = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        counter["n"] += 1
        nxt = f"https://graph.facebook.com/v26.0/111/feed?after=C{counter['n']}"
        return ok({"data": [{"id": str(counter["n"])}], "paging": {"next": nxt}})

    client = make_client(Recorder(handler), FakeTime())
    pages: list[list[dict[str, object]]] = []
    with pytest.raises(PagingLimit) as info:
        for page in iter_pages(client, "/111/feed", edge="feed", max_pages=20):
            pages.append(page)
    assert len(pages) == 20 and client.calls == 20
    assert info.value.exit_code == ExitCode.UNAVAILABLE and "20 pages" in str(info.value)
