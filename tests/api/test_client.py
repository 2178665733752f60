"""The Graph HTTP client (api/client.py): auth, URLs, usage headers, retries, halving."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest

import socialdesk
from socialdesk.api.client import GraphClient, appsecret_proof, parse_usage
from socialdesk.api.errors import (
    GraphConnectionError,
    GraphTimeout,
    InvalidRequest,
    MalformedResponse,
    Throttled,
    TokenInvalid,
    TransientError,
)
from socialdesk.api.retry import RetryPolicy
from socialdesk.errors import ExitCode
from socialdesk.models import RateUsage
from tests.api.conftest import TOKEN, FakeTime, Recorder, error_body, make_client, ok

REDUCE = "Please reduce the amount of data you're asking for, then retry your request"


def test_token_only_in_authorization_header() -> None:
    """The token travels as Bearer and never as access_token in the URL; UA and version set."""
    recorder = Recorder([ok({"id": "111", "name": "P"})])
    client = make_client(recorder)
    assert client.get("/me", {"fields": "id,name", "access_token": "sneaky"}) == {
        "id": "111",
        "name": "P",
    }
    request = recorder.requests[0]
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["user-agent"] == f"socialdesk/{socialdesk.__version__}"
    assert request.url.path == "/v26.0/me"
    assert "access_token" not in str(request.url) and TOKEN not in str(request.url)
    assert "appsecret_proof" not in request.url.params


def test_appsecret_proof_is_hmac_of_token() -> None:
    """With an app secret every call carries appsecret_proof = HMAC-SHA256(secret, token)."""
    recorder = Recorder([ok({"id": "1"}), ok({"id": "2"})])
    client = make_client(recorder, app_secret="s3cret-app")
    client.get("/me")
    client.post("/c_1", {"is_hidden": True}, retry=True)
    expected = hmac.new(b"s3cret-app", TOKEN.encode(), hashlib.sha256).hexdigest()
    assert appsecret_proof(TOKEN, "s3cret-app") == expected
    for request in recorder.requests:
        assert request.url.params["appsecret_proof"] == expected


def test_base_url_from_env_and_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """SOCIALDESK_GRAPH_URL is the default base; the version goes in every path."""
    monkeypatch.setenv("SOCIALDESK_GRAPH_URL", "http://127.0.0.1:9999/")
    recorder = Recorder([ok({"id": "1"})])
    client = GraphClient(TOKEN, transport=recorder.transport(), version="v25.0")
    client.get("111/conversations")
    assert str(recorder.requests[0].url).startswith("http://127.0.0.1:9999/v25.0/111/conversations")
    client.close()


def test_explicit_base_url_wins_over_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """An explicit base_url beats the environment variable."""
    monkeypatch.setenv("SOCIALDESK_GRAPH_URL", "http://127.0.0.1:9999")
    with GraphClient(TOKEN, base_url="http://127.0.0.1:1234") as client:
        assert client.url("/me") == "http://127.0.0.1:1234/v26.0/me"
        assert client.url("/v24.0/me") == "http://127.0.0.1:1234/v24.0/me"


def test_bad_version_is_refused() -> None:
    """A version that is not vNN.N is a ValueError at construction."""
    with pytest.raises(ValueError):
        GraphClient(TOKEN, version="26")


def test_next_link_on_graphs_host_is_rebased_and_stripped() -> None:
    """get_url strips access_token and sends a graph.facebook.com link to our base origin."""
    recorder = Recorder([ok({"data": []})])
    client = make_client(recorder, base_url="http://127.0.0.1:8000", app_secret="abcdefgh")
    client.get_url(
        f"https://graph.facebook.com/v26.0/111/feed?access_token={TOKEN}&after=X&limit=25"
    )
    url = recorder.requests[0].url
    assert url.host == "127.0.0.1" and url.port == 8000
    assert url.params["after"] == "X" and "access_token" not in url.params
    assert "appsecret_proof" in url.params


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example/v26.0/111/feed?after=X",
        "http://graph.facebook.com/v26.0/111/feed?after=X",  # plain HTTP: not Graph's origin
        "https://graph.facebook.com.evil.example/v26.0/111/feed?after=X",
        "https://127.0.0.1:9999/v26.0/111/feed?after=X",  # same host, other port
    ],
)
def test_next_link_to_another_host_is_refused_before_any_request(link: str) -> None:
    """A next link to any other origin raises ForeignLink; nothing (no token) is sent."""
    from socialdesk.api.errors import ForeignLink

    recorder = Recorder([])
    client = make_client(recorder, base_url="http://127.0.0.1:8000")
    with pytest.raises(ForeignLink) as info:
        client.get_url(link)
    assert recorder.requests == [] and client.calls == 0
    assert info.value.exit_code == ExitCode.UNAVAILABLE and "another host" in str(info.value)


def test_next_link_keeps_bare_query_keys_as_graph_wrote_them() -> None:
    """A time-based link's bare ``since`` and ``__previous`` are sent bare (never ``since=``)."""
    recorder = Recorder([ok({"data": []})])
    client = make_client(recorder, app_secret="abcdefgh")
    link = (
        "https://graph.facebook.com/v26.0/111/posts?pretty=0&limit=25&until=1624385168&since"
        f"&__paging_token=enc_AdB&access_token={TOKEN}&__previous"
    )
    client.get_url(link)
    query = recorder.requests[0].url.query.decode()
    assert query.split("&")[:6] == [
        "pretty=0",
        "limit=25",
        "until=1624385168",
        "since",
        "__paging_token=enc_AdB",
        "__previous",
    ]
    assert query.split("&")[6].startswith("appsecret_proof=") and TOKEN not in query


def test_timeouts_are_connect_5_and_read_configurable() -> None:
    """The httpx client uses a 5 s connect timeout and the given read timeout."""
    client = make_client(Recorder([]), timeout=12.0)
    timeout = client._http.timeout
    assert timeout.connect == 5.0 and timeout.read == 12.0


def test_usage_headers_take_the_max_across_entries() -> None:
    """X-App-Usage and every X-Business-Use-Case-Usage entry combine by maximum."""
    buc = {
        "111": [
            {
                "type": "pages",
                "call_count": 12,
                "total_cputime": 29,
                "total_time": 10,
                "estimated_time_to_regain_access": 0,
            },
            {
                "type": "messenger",
                "call_count": 81,
                "total_cputime": 3,
                "total_time": 4,
                "estimated_time_to_regain_access": 3,
            },
        ]
    }
    usage = parse_usage(
        {
            "X-App-Usage": json.dumps({"call_count": 5, "total_time": 40, "total_cputime": 1}),
            "X-Business-Use-Case-Usage": json.dumps(buc),
        }
    )
    assert usage == RateUsage(
        call_count=81,
        total_time=40,
        total_cputime=29,
        regain_access_minutes=3,
        by_type=(("messenger", 81), ("pages", 29)),
    )
    assert usage.of_type("messenger") == 81 and usage.of_type("instagram") is None
    assert parse_usage({}) is None
    assert parse_usage({"X-App-Usage": "not json"}) is None


def test_absent_usage_headers_leave_usage_as_is() -> None:
    """A response without usage headers keeps the last known usage."""
    headers = {"X-App-Usage": '{"call_count": 30, "total_time": 2, "total_cputime": 2}'}
    recorder = Recorder([ok({"id": "1"}, headers), ok({"id": "1"})])
    client = make_client(recorder)
    client.get("/me")
    client.get("/me")
    assert client.usage == RateUsage(call_count=30, total_time=2, total_cputime=2)


def test_transient_errors_are_retried_and_counted() -> None:
    """A 500 code 2 and a truncated body are retried; every request is counted in calls."""
    fake = FakeTime()
    recorder = Recorder(
        [
            httpx.Response(500, json=error_body(2, is_transient=True)),
            httpx.Response(200, content=b'{"data": [{"id": "1"'),
            ok({"data": []}),
        ]
    )
    client = make_client(recorder, fake)
    assert client.get("/111/feed") == {"data": []}
    assert client.calls == 3
    assert len(fake.sleeps) == 2
    assert fake.sleeps[0] == pytest.approx(0.5) and fake.sleeps[1] == pytest.approx(1.0)


def test_retries_stop_at_max_attempts() -> None:
    """max_attempts bounds the attempts; the last error is raised with its fbtrace_id."""
    recorder = Recorder(lambda r: httpx.Response(500, json=error_body(1, fbtrace_id="TRACE1")))
    client = make_client(recorder, max_attempts=3)
    with pytest.raises(TransientError) as info:
        client.get("/me")
    assert client.calls == 3
    assert info.value.fbtrace_id == "TRACE1"


def test_permanent_errors_are_not_retried() -> None:
    """190 raises TokenInvalid after one call."""
    recorder = Recorder(lambda r: httpx.Response(400, json=error_body(190, subcode=460)))
    client = make_client(recorder)
    with pytest.raises(TokenInvalid) as info:
        client.get("/me")
    assert client.calls == 1
    assert info.value.hint is not None and "socialdesk auth login" in info.value.hint


def test_malformed_200_raises_after_retries() -> None:
    """A 200 whose body is never valid JSON ends as MalformedResponse."""
    recorder = Recorder(lambda r: httpx.Response(200, content=b"<html>oops"))
    client = make_client(recorder, max_attempts=2)
    with pytest.raises(MalformedResponse):
        client.get("/me")
    assert client.calls == 2


def test_bodiless_5xx_is_transient() -> None:
    """An HTTP 502 with an HTML body is a transient error, retried."""
    recorder = Recorder([httpx.Response(502, content=b"<html>Bad Gateway"), ok({"id": "1"})])
    client = make_client(recorder)
    assert client.get("/me") == {"id": "1"}


def test_throttle_waits_estimated_time_to_regain_access() -> None:
    """A throttled answer with estimated_time_to_regain_access=2 sleeps 120 s, then succeeds."""
    fake = FakeTime()
    buc = {
        "111": [
            {
                "type": "messenger",
                "call_count": 100,
                "total_cputime": 5,
                "total_time": 5,
                "estimated_time_to_regain_access": 2,
            }
        ]
    }
    recorder = Recorder(
        [
            httpx.Response(
                400,
                json=error_body(80006, "There have been too many messenger api calls"),
                headers={"X-Business-Use-Case-Usage": json.dumps(buc)},
            ),
            ok({"data": []}),
        ]
    )
    client = make_client(recorder, fake, pace=False)
    client.get("/111/conversations", edge="conversations")
    assert fake.sleeps == [120.0]


def test_throttle_beyond_max_wait_raises_with_retry_after() -> None:
    """A 60-minute block is not slept through: Throttled says when to try again."""
    fake = FakeTime()
    buc = {"111": [{"call_count": 100, "estimated_time_to_regain_access": 60}]}
    recorder = Recorder(
        [
            httpx.Response(
                400, json=error_body(80001), headers={"X-Business-Use-Case-Usage": json.dumps(buc)}
            )
        ]
    )
    client = make_client(recorder, fake, pace=False, retry_policy=RetryPolicy(max_wait=300))
    with pytest.raises(Throttled) as info:
        client.get("/111/feed")
    assert info.value.retry_after == 3600.0
    assert info.value.hint is not None and "60 minutes" in info.value.hint
    assert fake.sleeps == []


def test_code_1_halves_page_size_and_remembers_it() -> None:
    """Code 1 'reduce the amount of data' retries with half the limit and remembers it."""
    limits: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        limits.append(request.url.params["limit"])
        if int(request.url.params["limit"]) > 25:
            return httpx.Response(500, json=error_body(1, REDUCE))
        return ok({"data": []})

    client = make_client(Recorder(handler))
    client.get("/111/conversations", {"limit": "100"}, edge="conversations")
    assert limits == ["100", "50", "25"]
    assert client.page_size == {"conversations": 25}
    client.get("/111/conversations", {"limit": "100"}, edge="conversations")
    client.get_url(
        "https://graph.facebook.com/v26.0/111/conversations?limit=100&after=Q", edge="conversations"
    )
    assert limits[3:] == ["25", "25"]
    client.get("/111/feed", {"limit": "100"}, edge="feed")
    assert limits[5:] == ["100", "50", "25"]
    assert client.page_size == {"conversations": 25, "feed": 25}


def test_posts_are_never_retried() -> None:
    """A send that times out is not retried and says the request was sent."""
    req = httpx.Request("POST", "https://graph.facebook.com/v26.0/111/messages")
    recorder = Recorder([httpx.ReadTimeout("slow", request=req), ok({"message_id": "m"})])
    client = make_client(recorder)
    with pytest.raises(GraphTimeout) as info:
        client.post("/111/messages", {"recipient": {"id": "7"}, "message": {"text": "hi"}})
    assert client.calls == 1
    assert info.value.request_sent is True


def test_post_5xx_is_not_retried() -> None:
    """A 500 code 2 on a send surfaces at once (the outbox decides, not the client)."""
    recorder = Recorder([httpx.Response(500, json=error_body(2, is_transient=True))])
    client = make_client(recorder)
    with pytest.raises(TransientError):
        client.post("/111/messages", {"recipient": {"id": "7"}, "message": {"text": "hi"}})
    assert client.calls == 1


def test_connect_error_says_request_not_sent() -> None:
    """A connection refused is retried on GET and marks request_sent False."""
    req = httpx.Request("GET", "https://graph.facebook.com/v26.0/me")
    recorder = Recorder(lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused", request=req)))
    client = make_client(recorder, max_attempts=2)
    with pytest.raises(GraphConnectionError) as info:
        client.get("/me")
    assert info.value.request_sent is False
    assert client.calls == 2


def test_post_bodies_json_for_nested_form_for_flat() -> None:
    """Nested payloads go as JSON, flat ones as a form with true/false booleans."""
    recorder = Recorder([ok({"message_id": "m"}), ok({"success": True})])
    client = make_client(recorder)
    client.post("/111/messages", {"recipient": {"id": "7"}, "message": {"text": "hi"}})
    client.post("/c_1", {"is_hidden": False}, retry=True)
    first, second = recorder.requests
    assert first.headers["content-type"] == "application/json"
    assert json.loads(first.content) == {"recipient": {"id": "7"}, "message": {"text": "hi"}}
    assert second.headers["content-type"] == "application/x-www-form-urlencoded"
    assert second.content == b"is_hidden=false"


def test_delete_and_error_in_200() -> None:
    """DELETE works; an error envelope inside a 200 is still classified."""
    recorder = Recorder([ok({"success": True}), ok(error_body(100, "bad"))])
    client = make_client(recorder)
    assert client.delete("/c_1") == {"success": True}
    assert recorder.requests[0].method == "DELETE"
    with pytest.raises(InvalidRequest):
        client.get("/me")


def test_absolute_urls_given_to_get_are_refused_unless_on_our_origin() -> None:
    """get() with an absolute foreign URL is refused: the token goes only to our base origin."""
    from socialdesk.api.errors import ForeignLink

    recorder = Recorder([ok({"id": "1"})])
    client = make_client(recorder, base_url="http://127.0.0.1:8000")
    with pytest.raises(ForeignLink):
        client.get(f"https://elsewhere.example/v26.0/me?access_token={TOKEN}")
    assert recorder.requests == []
    client.get(f"http://127.0.0.1:8000/v26.0/me?access_token={TOKEN}")
    url = recorder.requests[0].url
    assert (url.host, url.port) == ("127.0.0.1", 8000)
    assert TOKEN not in str(url)
