"""Injected faults: the spec parser, determinism, and each kind's observable effect."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from socialdesk.sandbox import FaultSpec

from .conftest import BASE, NOW, V, World, error_of


def always(*kinds: str) -> FaultSpec:
    """A spec that faults every request that fits one of ``kinds``."""
    return FaultSpec(rate=1.0, kinds=kinds)


def test_parse_spec() -> None:
    """Bare items after kinds= continue the kinds list; 500 and 2 mean 500:2."""
    spec = FaultSpec.parse(
        "rate=0.05,kinds=500:2,1,613,timeout,malformed,dup-page,empty-page,seed=7"
    )
    assert spec.rate == 0.05 and spec.seed == 7
    assert spec.kinds == ("500:2", "1", "613", "timeout", "malformed", "dup-page", "empty-page")
    assert FaultSpec.parse("rate=1,kinds=500").kinds == ("500:2",)
    for bad in ("rate=2", "kinds=teapot", "bogus=1", "rate=0.1,oops"):
        with pytest.raises(ValueError):
            FaultSpec.parse(bad)


def test_deterministic_for_a_seed() -> None:
    """The same spec and seed pick the same faults in the same order."""
    picks = []
    for _ in range(2):
        spec = FaultSpec.parse("rate=0.3,kinds=500:2,613,timeout,seed=4")
        picks.append([spec.pick("GET", True) for _ in range(200)])
    assert picks[0] == picks[1]
    hits = [p for p in picks[0] if p]
    assert 30 < len(hits) < 90 and set(hits) == {"500:2", "613", "timeout"}


def test_code_2(world: World) -> None:
    """500:2 answers HTTP 500, code 2, is_transient true."""
    world.sb.faults = always("500:2")
    resp = world.get("/me")
    err = error_of(resp)
    assert resp.status_code == 500 and err["code"] == 2 and err["is_transient"] is True


def test_code_1_on_reads_only(world: World) -> None:
    """Kind 1 is "reduce the amount of data" (HTTP 500) and never hits a write."""
    world.sb.faults = always("1")
    resp = world.get(f"/{world.page}/conversations")
    assert resp.status_code == 500 and error_of(resp)["code"] == 1
    assert world.send("still sent").status_code == 200


@pytest.mark.parametrize("code", [613, 80006, 4])
def test_throttling(world: World, code: int) -> None:
    """Throttling kinds answer their code with estimated_time_to_regain_access > 0."""
    world.sb.faults = always(str(code))
    resp = world.get(f"/{world.page}/feed")
    assert resp.status_code == 400 and error_of(resp)["code"] == code
    entries = json.loads(resp.headers["x-business-use-case-usage"])[world.page]
    assert min(e["estimated_time_to_regain_access"] for e in entries) >= 1


def test_timeout_after_processing(world: World) -> None:
    """timeout: the transport raises ReadTimeout although the send happened (ledger has it)."""
    world.sb.faults = always("timeout")
    with pytest.raises(httpx.ReadTimeout):
        world.send("did it go?")
    assert [d.text for d in world.sb.deliveries(world.page)] == ["did it go?"]


def test_malformed_body(world: World) -> None:
    """malformed: the JSON body is truncated."""
    world.sb.faults = always("malformed")
    resp = world.get(f"/{world.page}/conversations")
    assert resp.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(resp.content)


def add_convs(world: World, n: int) -> None:
    """``n`` more conversations, one minute apart."""
    for i in range(n):
        uid = world.sb.add_user(f"U{i}")
        world.sb.add_message(world.page, uid, f"m{i}", at=NOW - timedelta(minutes=10 + i))


def test_dup_page_repeats_previous_last_item(world: World) -> None:
    """dup-page: the second page starts with the first page's last item."""
    add_convs(world, 4)
    first = world.get(f"/{world.page}/conversations", limit=3).json()
    world.sb.faults = always("dup-page")
    second = world.client.get(first["paging"]["next"]).json()
    assert second["data"][0]["id"] == first["data"][-1]["id"]
    assert len(second["data"]) == 6 - 3 + 1


def test_empty_page_with_next(world: World) -> None:
    """empty-page: data [] with a next link that leads to the real page."""
    add_convs(world, 4)
    world.sb.faults = always("empty-page")
    empty = world.get(f"/{world.page}/conversations", limit=3).json()
    assert empty["data"] == [] and "next" in empty["paging"]
    world.sb.faults = None
    real = world.client.get(empty["paging"]["next"]).json()
    assert len(real["data"]) == 3


def test_list_faults_spare_nodes_and_writes(world: World) -> None:
    """dup-page/empty-page only touch list reads; auth errors are never masked by faults."""
    world.sb.faults = always("dup-page", "empty-page")
    assert world.get("/me").json()["name"] == "Test Shop"
    assert world.send("ok").status_code == 200
    world.sb.faults = always("500:2")
    world.sb.invalidate_token(world.token)
    assert error_of(world.get("/me"))["code"] == 190


def test_heavy_requests_time_out_light_ones_do_not(world: World) -> None:
    """heavy: limit × nested limit above the threshold times out (processed); below it, never."""
    world.sb.faults = FaultSpec.parse("rate=1,kinds=heavy,heavy=1000")
    heavy = f"/{world.page}/conversations"
    with pytest.raises(httpx.ReadTimeout):
        world.get(heavy, limit=100, fields="messages.limit(25){id}")
    assert world.get(heavy, limit=40, fields="messages.limit(25){id}").status_code == 200
    assert world.get(heavy, limit=100, fields="id").status_code == 200
    with pytest.raises(httpx.ReadTimeout):
        world.get(f"/{world.page}/feed", limit=100, fields="comments.limit(25){id}")
    assert world.send("writes never draw it").status_code == 200
    assert FaultSpec.parse("rate=1,kinds=heavy").heavy == 1000
    with pytest.raises(ValueError):
        FaultSpec.parse("rate=1,kinds=heavy,heavy=lots")


def test_html_502_after_processing(world: World) -> None:
    """html: a proxy's 502 page, no Graph headers; a send behind it really happened."""
    world.sb.faults = always("html")
    resp = world.send("did it go?")
    assert resp.status_code == 502
    assert resp.headers["content-type"] == "text/html"
    assert resp.content.startswith(b"<!DOCTYPE html>")
    assert "x-business-use-case-usage" not in resp.headers
    assert [d.text for d in world.sb.deliveries(world.page)] == ["did it go?"]


def test_error_in_a_200(world: World) -> None:
    """error-200: HTTP 200 carrying an error envelope; a send behind it did not happen."""
    world.sb.faults = always("error-200")
    resp = world.send("x")
    assert resp.status_code == 200
    assert resp.json()["error"]["code"] == 2
    assert world.sb.deliveries(world.page) == []


def test_wrong_types_in_lists_and_nodes(world: World) -> None:
    """wrong-types: null id, a number for a string, an object for a list; nodes get a null id."""
    add_convs(world, 4)
    world.sb.faults = always("wrong-types")
    fields = "id,updated_time,participants"
    data = world.get(f"/{world.page}/conversations", fields=fields).json()["data"]
    assert data[0]["id"] is None
    assert isinstance(data[1]["updated_time"], int)
    assert isinstance(data[2]["participants"]["data"], dict)
    assert world.get("/me").json()["id"] is None


def test_big_body_is_ten_megabytes_of_valid_json(world: World) -> None:
    """big-body: the real answer grown past 10 MB in its first text field, still valid JSON."""
    world.sb.faults = always("big-body")
    resp = world.get(f"/{world.page}/conversations", fields="id,snippet")
    assert len(resp.content) > 10 * 1024 * 1024
    assert resp.json()["data"][0]["snippet"].startswith("xxxx")


def test_huge_body_is_streamed_not_built(world: World) -> None:
    """huge-body: a valid JSON list of `huge` MB (300 by default) made in chunks: reading 30 MB
    of it never holds more than a few MB (the sandbox does not build it)."""
    import tracemalloc

    assert always("huge-body").huge == 300.0
    world.sb.faults = FaultSpec.parse("rate=1,kinds=huge-body,huge=30")
    tracemalloc.start()
    try:
        with world.client.stream("GET", f"{V}/{world.page}/conversations") as resp:
            declared = int(resp.headers["content-length"])
            total = 0
            head = b""
            for chunk in resp.iter_raw():
                if len(head) < 20:
                    head += chunk[:20]
                total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert declared == total >= 30 * 1024 * 1024 - 100
    assert head.startswith(b'{"data":[{"id":"t_')
    assert peak < 4 * 1024 * 1024


def test_foreign_next_points_elsewhere(world: World) -> None:
    """foreign-next: paging.next goes to another host, same path; added on a last page too."""
    world.sb.faults = FaultSpec.parse("rate=1,kinds=foreign-next,foreign=http://127.0.0.9:9")
    body = world.get(f"/{world.page}/conversations", limit=1).json()
    nxt = body["paging"]["next"]
    assert nxt.startswith(f"http://127.0.0.9:9{V}/{world.page}/conversations?")
    assert "access_token" not in nxt
    default = FaultSpec.parse("rate=1,kinds=foreign-next")
    assert default.foreign == "https://graph.facebook.com.evil.example"
    with pytest.raises(ValueError):
        FaultSpec.parse("rate=1,kinds=foreign-next,foreign=ftp://x")


def test_endless_chain_of_fresh_cursors(world: World) -> None:
    """endless: every next link has a new cursor and the same data; it never ends, even once
    the fault is switched off (the chain's cursors carry it)."""
    add_convs(world, 3)
    world.sb.faults = FaultSpec.parse("rate=1,kinds=endless,seed=1")
    body = world.get(f"/{world.page}/conversations", limit=2).json()
    first_ids = [c["id"] for c in body["data"]]
    world.sb.faults = None
    cursors = set()
    for _ in range(60):
        nxt = body["paging"]["next"]
        cursor = dict(parse_qsl(urlsplit(nxt).query))["after"]
        assert cursor not in cursors
        cursors.add(cursor)
        body = world.client.get(nxt).json()
        assert [c["id"] for c in body["data"]] == first_ids
    assert "next" in body["paging"]


def test_drip_in_process_sleeps_before_every_byte(world: World) -> None:
    """drip: the answer is processed, then comes one byte per read after a `drip` sleep."""
    naps: list[float] = []
    client = httpx.Client(
        transport=world.sb.transport(sleep=naps.append),
        base_url=BASE,
        headers={"Authorization": f"Bearer {world.token}"},
    )
    world.sb.faults = FaultSpec.parse("rate=1,kinds=drip,drip=5")
    resp = client.post(
        f"{V}/{world.page}/messages",
        json={"recipient": {"id": world.alice}, "message": {"text": "slow"}},
    )
    assert resp.json()["recipient_id"] == world.alice
    assert naps == [5.0] * len(resp.content)
    assert [d.text for d in world.sb.deliveries(world.page)] == ["slow"]


def test_drip_over_http_defeats_a_per_read_timeout() -> None:
    """Over loopback a 0.02 s drip passes a 1 s read timeout yet takes len(body) × 0.02 s."""
    import time

    from socialdesk.sandbox import Sandbox

    sb = Sandbox(rate_limit=False, seed=9)
    page = sb.add_page("Drip")
    token = sb.issue_token(page)
    sb.faults = FaultSpec.parse("rate=1,kinds=drip,drip=0.02")
    with sb.serve() as server:
        started = time.monotonic()
        resp = httpx.get(
            f"{server.base_url}{V}/me",
            headers={"Authorization": f"Bearer {token}"},
            timeout=1.0,
        )
        elapsed = time.monotonic() - started
    assert resp.json()["id"] == page
    assert elapsed >= 0.02 * len(resp.content) * 0.9


def test_new_kinds_in_the_spec() -> None:
    """Every nonsense kind parses; the numbers have defaults and are checked."""
    spec = FaultSpec.parse(
        "rate=0.5,kinds=html,error-200,wrong-types,big-body,huge-body,foreign-next,endless,drip,"
        "drip=2,big=1,huge=5"
    )
    assert (spec.drip, spec.big, spec.huge) == (2.0, 1.0, 5.0)
    assert len(spec.kinds) == 8
    with pytest.raises(ValueError):
        FaultSpec.parse("rate=1,kinds=drip,drip=-1")
