"""Every request ends, and waits are announced: the client's size cap, deadlines and halving.

A response that drips a byte every 5 s, a 300 MB body, a timeout on a heavy page, a throttle:
each either finishes or stops with a clear typed error, and every wait longer than pacing
reaches the ``on_wait`` callback before the sleep. Fake time only (the drip advances it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from socialdesk.api.errors import (
    DeadlineExceeded,
    GraphTimeout,
    RequestDeadline,
    ResponseTooLarge,
    Throttled,
)
from socialdesk.errors import ExitCode
from socialdesk.models import Wait
from tests.api.conftest import FakeTime, Recorder, error_body, make_client, ok


class _Drip(httpx.SyncByteStream):
    """A body that yields one byte per step, each step moving fake time by ``every`` s."""

    def __init__(self, fake: FakeTime, body: bytes, every: float) -> None:
        self.fake, self.body, self.every = fake, body, every
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        for i in range(len(self.body)):
            self.fake.now += self.every
            self.sent += 1
            yield self.body[i : i + 1]


class _Huge(httpx.SyncByteStream):
    """``total`` bytes of JSON-ish filler in 1 MB chunks, never held in memory at once."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        chunk = b" " * (1024 * 1024)
        while self.sent < self.total:
            self.sent += len(chunk)
            yield chunk


def test_a_body_dripping_a_byte_every_5_s_stops_at_the_request_deadline() -> None:
    """A drip never reaches httpx's per-read timeout; the overall deadline stops it (exit 4)."""
    fake = FakeTime()
    streams: list[_Drip] = []

    def handler(request: httpx.Request) -> httpx.Response:
        stream = _Drip(fake, b'{"data": []}' + b" " * 10_000, every=5.0)
        streams.append(stream)
        return httpx.Response(200, stream=stream)

    client = make_client(Recorder(handler), fake, request_deadline=60.0, max_attempts=1)
    start = fake.now
    with pytest.raises(RequestDeadline) as info:
        client.get("/me")
    assert fake.now - start <= 65.0
    assert streams[0].sent <= 13
    assert info.value.exit_code == ExitCode.UNAVAILABLE
    assert "longer than 60 s" in str(info.value)


def test_a_300_mb_body_is_not_read_past_the_cap() -> None:
    """Reading stops at the cap (a few MB), with ResponseTooLarge, not after 300 MB."""
    streams: list[_Huge] = []

    def handler(request: httpx.Request) -> httpx.Response:
        stream = _Huge(300 * 1024 * 1024)
        streams.append(stream)
        return httpx.Response(200, stream=stream)

    client = make_client(Recorder(handler), max_body_bytes=4 * 1024 * 1024)
    with pytest.raises(ResponseTooLarge) as info:
        client.get("/me")
    assert streams[0].sent <= 5 * 1024 * 1024
    assert len(streams) == 1  # a request without a page size is not retried: it would repeat
    assert info.value.exit_code == ExitCode.UNAVAILABLE and "larger than 4 MB" in str(info.value)


def test_a_declared_oversize_body_is_refused_without_reading() -> None:
    """A Content-Length over the cap is refused before a byte of the body is read."""
    streams: list[_Huge] = []

    def handler(request: httpx.Request) -> httpx.Response:
        stream = _Huge(64 * 1024 * 1024)
        streams.append(stream)
        return httpx.Response(200, stream=stream, headers={"Content-Length": str(stream.total)})

    client = make_client(Recorder(handler), max_body_bytes=1024 * 1024)
    with pytest.raises(ResponseTooLarge):
        client.get("/me")
    assert streams[0].sent == 0


def test_an_oversize_page_is_retried_with_half_the_page_size() -> None:
    """A page too large to read is asked again with half the limit, which is remembered."""

    def handler(request: httpx.Request) -> httpx.Response:
        if int(request.url.params["limit"]) > 25:
            return httpx.Response(200, stream=_Huge(8 * 1024 * 1024))
        return ok({"data": [{"id": "1"}]})

    recorder = Recorder(handler)
    client = make_client(recorder, max_body_bytes=1024 * 1024)
    assert client.get("/111/feed", {"limit": "100"}, edge="feed") == {"data": [{"id": "1"}]}
    assert [r.url.params["limit"] for r in recorder.requests] == ["100", "50", "25"]
    assert client.page_size == {"feed": 25}


def test_a_timeout_on_a_big_page_halves_the_page_size() -> None:
    """A read timeout on a paged request retries with half the limit, as code 1 does."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.params["limit"])
        if int(request.url.params["limit"]) > 50:
            raise httpx.ReadTimeout("slow", request=request)
        return ok({"data": []})

    client = make_client(Recorder(handler))
    client.get("/111/conversations", {"limit": "100"}, edge="conversations")
    assert calls == ["100", "50"]
    assert client.page_size_for("conversations", 100) == 50


def test_a_timeout_without_a_page_size_is_retried_unchanged() -> None:
    """No limit to halve: a timeout is plain transient (backoff, same request)."""
    queue: list[httpx.Response | Exception] = [
        httpx.ReadTimeout("slow"),
        ok({"id": "1"}),
    ]
    recorder = Recorder(queue)
    client = make_client(recorder)
    assert client.get("/me") == {"id": "1"}
    assert client.calls == 2 and client.page_size == {}


def test_waits_are_announced_with_reason_and_duration_before_sleeping() -> None:
    """A throttle and a retry backoff each reach on_wait (seconds, reason, edge) first."""
    fake = FakeTime()
    seen: list[tuple[Wait, int]] = []
    recorder = Recorder(
        [
            ok(
                error_body(80006, "There have been too many messenger api calls"),
                status=400,
                headers={
                    "X-Business-Use-Case-Usage": (
                        '{"111": [{"type": "messenger", "call_count": 100,'
                        ' "estimated_time_to_regain_access": 2}]}'
                    )
                },
            ),
            ok(error_body(2, "Service temporarily unavailable", is_transient=True), status=500),
            ok({"data": []}),
        ]
    )
    client = make_client(recorder, fake, pace=False)
    client.on_wait = lambda wait: seen.append((wait, len(fake.sleeps)))
    client.get("/111/conversations", {"limit": "10"}, edge="conversations")
    assert [round(w.seconds) for w, _ in seen] == [120, round(fake.sleeps[1])]
    assert [n for _, n in seen] == [0, 1]  # announced before the sleep it describes
    first = seen[0][0]
    assert "80006" in first.reason and first.edge == "conversations"


def test_pacing_waits_are_not_announced() -> None:
    """The 0.6 s spacing of conversation calls is routine: no wait line for it."""
    fake = FakeTime()
    seen: list[Wait] = []
    client = make_client(Recorder(lambda r: ok({"data": []})), fake, on_wait=seen.append)
    for _ in range(4):
        client.get("/111/conversations", edge="conversations")
    assert len(fake.sleeps) == 3 and seen == []


def test_operation_counts_only_its_own_threads_calls() -> None:
    """Two threads on one client each count their own calls; the client counts all."""
    client = make_client(Recorder(lambda r: ok({"id": "1"})), pace=False)
    counts: dict[str, int] = {}
    barrier = threading.Barrier(2)

    def work(name: str, n: int) -> None:
        with client.operation(name) as op:
            barrier.wait()
            for _ in range(n):
                client.get("/me")
            counts[name] = op.calls

    threads = [threading.Thread(target=work, args=(n, k)) for n, k in (("sync", 7), ("reply", 2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counts == {"sync": 7, "reply": 2}
    assert client.calls == 9


def test_nested_operations_both_count_and_the_inner_callback_hears_waits() -> None:
    """A call inside nested operations counts in both; the innermost on_wait is told."""
    fake = FakeTime()
    recorder = Recorder(
        [ok(error_body(2, "temporary", is_transient=True), status=500), ok({"id": "1"})]
    )
    client = make_client(recorder, fake, pace=False)
    outer_seen: list[Wait] = []
    inner_seen: list[Wait] = []
    with (
        client.operation("outer", on_wait=outer_seen.append) as outer,
        client.operation("inner", on_wait=inner_seen.append) as inner,
    ):
        client.get("/me")
    assert (outer.calls, inner.calls) == (2, 2)
    assert len(inner_seen) == 1 and outer_seen == []
    assert outer.waits == inner.waits == inner_seen


def test_operation_deadline_stops_before_a_wait_that_would_pass_it() -> None:
    """A throttle wait past the operation's deadline raises DeadlineExceeded at once."""
    fake = FakeTime()
    recorder = Recorder(
        [
            ok(
                error_body(613, "Calls to this api have exceeded the rate limit"),
                status=400,
                headers={
                    "X-Business-Use-Case-Usage": (
                        '{"111": [{"type": "pages", "call_count": 100,'
                        ' "estimated_time_to_regain_access": 1}]}'
                    )
                },
            )
        ]
    )
    client = make_client(recorder, fake, pace=False)
    with pytest.raises(DeadlineExceeded) as info, client.operation("sync", deadline_s=30.0):
        client.get("/me")
    assert fake.sleeps == []
    assert info.value.exit_code == ExitCode.UNAVAILABLE and "sync" in str(info.value)


def test_operation_deadline_stops_new_requests() -> None:
    """Once the deadline has passed no further request leaves."""
    fake = FakeTime()
    recorder = Recorder(lambda r: ok({"id": "1"}))
    client = make_client(recorder, fake, pace=False)
    with client.operation("sync", deadline_s=10.0):
        client.get("/me")
        fake.now += 11
        with pytest.raises(DeadlineExceeded):
            client.get("/me")
    assert len(recorder.requests) == 1
    client.get("/me")  # outside the operation nothing is bounded
    assert len(recorder.requests) == 2


def test_html_error_page_and_non_object_json_name_what_came_back() -> None:
    """A proxy's HTML page on 200 and a JSON list body are MalformedResponse saying so."""
    from socialdesk.api.errors import MalformedResponse

    html = httpx.Response(200, text="<html>oops</html>", headers={"content-type": "text/html"})
    client = make_client(Recorder([html, ok([1, 2])]), max_attempts=1)
    with pytest.raises(MalformedResponse, match="text/html instead of JSON"):
        client.get("/me")
    with pytest.raises(MalformedResponse, match="JSON list instead of an object"):
        client.get("/me")


def test_a_502_html_page_from_a_proxy_is_transient_and_retried() -> None:
    """A bodiless 5xx (an HTML page) is retried, then answered."""
    html = httpx.Response(502, text="<html>Bad Gateway</html>")
    client = make_client(Recorder([html, ok({"id": "1"})]))
    assert client.get("/me") == {"id": "1"}


def test_throttle_then_success_reports_regain_wait(fake_time: FakeTime) -> None:
    """A throttle with a regain estimate is waited for exactly, and the call then succeeds."""
    recorder = Recorder(
        [
            ok(
                error_body(32, "Page request limit reached"),
                status=400,
                headers={
                    "X-Business-Use-Case-Usage": (
                        '{"111": [{"type": "pages", "call_count": 100,'
                        ' "estimated_time_to_regain_access": 1}]}'
                    )
                },
            ),
            ok({"id": "1"}),
        ]
    )
    client = make_client(recorder, fake_time, pace=False)
    assert client.get("/me") == {"id": "1"}
    assert fake_time.sleeps == [60.0]


def test_timeout_errors_say_whether_the_request_was_sent() -> None:
    """A connect timeout never left; a read timeout may have been processed."""
    client = make_client(
        Recorder([httpx.ConnectTimeout("no"), httpx.ReadTimeout("slow")]), max_attempts=1
    )
    with pytest.raises(GraphTimeout) as first:
        client.get("/me")
    assert first.value.request_sent is False
    with pytest.raises(GraphTimeout) as second:
        client.get("/me")
    assert second.value.request_sent is True


def test_throttled_error_is_raised_when_regain_is_too_far() -> None:
    """A regain estimate longer than max_wait is not waited for."""
    recorder = Recorder(
        [
            ok(
                error_body(80006, "too many"),
                status=400,
                headers={
                    "X-Business-Use-Case-Usage": (
                        '{"111": [{"type": "messenger", "call_count": 100,'
                        ' "estimated_time_to_regain_access": 90}]}'
                    )
                },
            )
        ]
    )
    fake = FakeTime()
    client = make_client(recorder, fake, pace=False)
    with pytest.raises(Throttled) as info:
        client.get("/me")
    assert fake.sleeps == [] and info.value.retry_after == 5400
