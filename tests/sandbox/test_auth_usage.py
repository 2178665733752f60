"""Tokens, appsecret_proof, usage headers, the 2 calls/s conversations limit (GRAPH_API §9-§10)."""

from __future__ import annotations

import json

import httpx

from socialdesk.sandbox import Sandbox, appsecret_proof

from .conftest import BASE, V, World, error_of, make_world


def test_header_and_param_both_work(world: World) -> None:
    """Authorization: Bearer and access_token= are both accepted."""
    bare = httpx.Client(transport=world.sb.transport(), base_url=BASE)
    assert bare.get(f"{V}/me", params={"access_token": world.token}).status_code == 200
    assert (
        bare.get(f"{V}/me", headers={"Authorization": f"Bearer {world.token}"}).status_code == 200
    )


def test_missing_token(world: World) -> None:
    """No token: /me answers 2500 "An active access token…", other paths 104."""
    bare = httpx.Client(transport=world.sb.transport(), base_url=BASE)
    err = error_of(bare.get(f"{V}/me"))
    assert err["code"] == 2500 and err["message"].startswith("An active access token must be used")
    assert error_of(bare.get(f"{V}/{world.page}/conversations"))["code"] == 104


def test_unknown_token_190(world: World) -> None:
    """An unknown token is 190 without subcode, with a WWW-Authenticate header."""
    bare = httpx.Client(transport=world.sb.transport(), base_url=BASE)
    resp = bare.get(f"{V}/me", headers={"Authorization": "Bearer EAAnope"})
    err = error_of(resp)
    assert resp.status_code == 400 and err["code"] == 190 and "error_subcode" not in err
    assert resp.headers["www-authenticate"].startswith('OAuth "Facebook Platform" "invalid_token"')


def test_invalidated_token_460(world: World) -> None:
    """invalidate_token → 190/460 with the real password-changed message."""
    world.sb.invalidate_token(world.token)
    err = error_of(world.get("/me"))
    assert (err["code"], err["error_subcode"], err["type"]) == (190, 460, "OAuthException")
    assert "changed their password" in err["message"]
    assert err["is_transient"] is False


def test_expired_token_463(world: World) -> None:
    """expire_token → 190/463 "Session has expired"."""
    world.sb.expire_token(world.token)
    err = error_of(world.get("/me"))
    assert (err["code"], err["error_subcode"]) == (190, 463)
    assert "Session has expired" in err["message"]


def test_appsecret_proof_enforced(world: World) -> None:
    """With a required secret, a missing or wrong proof is code 100; the right one passes."""
    world.sb.require_appsecret_proof("s3cret")
    missing = error_of(world.get("/me"))
    assert missing["code"] == 100 and "appsecret_proof" in missing["message"]
    assert "appsecret_proof" in error_of(world.get("/me", appsecret_proof="00"))["message"]
    proof = appsecret_proof("s3cret", world.token)
    assert world.get("/me", appsecret_proof=proof).status_code == 200
    world.sb.require_appsecret_proof(None)
    assert world.get("/me").status_code == 200


def usage(resp: httpx.Response, page: str, kind: str = "pages") -> dict[str, int]:
    """One entry of X-Business-Use-Case-Usage."""
    entries = json.loads(resp.headers["x-business-use-case-usage"])[page]
    assert {e["type"] for e in entries} == {"pages", "messenger"}
    return next(e for e in entries if e["type"] == kind)


def test_flat_usage_budget_headers_rise() -> None:
    """With a flat usage_budget, percentages rise with calls and fall once the window passes."""
    w = make_world()
    w.sb.usage_budget = 10
    w.sb.usage_window_s = 3600
    first = w.get("/me")
    assert "x-app-usage" not in first.headers  # a Page token is under BUC limits only
    assert usage(first, w.page)["call_count"] == 10
    for _ in range(3):
        last = w.get("/me")
    assert usage(last, w.page)["call_count"] == 40
    assert usage(last, w.page, "messenger")["call_count"] == 0
    assert usage(last, w.page)["estimated_time_to_regain_access"] == 0
    w.sb.advance(3601)
    assert usage(w.get("/me"), w.page)["call_count"] == 10


def test_conversation_rate_limit_80006() -> None:
    """A third conversations call in one burst answers 80006 with no BUC penalty; 0.5 s later a
    token has come back."""
    w = make_world(rate_limit=True)
    path = f"/{w.page}/conversations"
    assert w.get(path).status_code == 200
    assert w.get(path).status_code == 200
    third = w.get(path)
    err = error_of(third)
    assert third.status_code == 400 and err["code"] == 80006 and err["is_transient"] is True
    entries = json.loads(third.headers["x-business-use-case-usage"])[w.page]
    assert all(e["estimated_time_to_regain_access"] == 0 for e in entries)
    assert all(e["call_count"] < 100 for e in entries)
    assert w.get("/me").status_code == 200  # other edges are not limited
    w.sb.advance(0.5)
    assert w.get(path).status_code == 200
    assert w.get(path).status_code == 400


def test_rate_limit_switch_off() -> None:
    """rate_limit=False lets benchmarks hammer conversations."""
    w = make_world(rate_limit=False)
    assert all(w.get(f"/{w.page}/conversations").status_code == 200 for _ in range(10))


def test_counters(world: World) -> None:
    """calls and calls_by_edge count requests; reset_counters zeroes them; transport counts too."""
    sb: Sandbox = world.sb
    world.get(f"/{world.page}/conversations")
    world.get(f"/{world.page}/feed")
    world.send("hi")
    assert sb.calls == 3
    assert sb.calls_by_edge["GET conversations"] == 1
    assert sb.calls_by_edge["GET feed"] == 1
    assert sb.calls_by_edge["POST messages"] == 1
    sb.reset_counters()
    assert sb.calls == 0 and not sb.calls_by_edge
    transport = sb.transport()
    httpx.Client(transport=transport, base_url=BASE).get(f"{V}/me")
    assert transport.calls == 1
