"""Injected faults: the spec parser, determinism, and each kind's observable effect."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from socialdesk.sandbox import FaultSpec

from .conftest import NOW, World, error_of


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
