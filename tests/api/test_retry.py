"""The pure retry policy (api/retry.py): a decision table and backoff bounds."""

from __future__ import annotations

import random

import httpx
import pytest

from socialdesk.api.errors import (
    GraphConnectionError,
    GraphTimeout,
    InvalidRequest,
    MalformedResponse,
    PermissionDenied,
    PolicyRefused,
    ReduceData,
    Throttled,
    TokenInvalid,
    TransientError,
    classify,
)
from socialdesk.api.retry import DEFAULT_POLICY, RetryPolicy, decide
from tests.api.conftest import error_body

REQ = httpx.Request("GET", "https://graph.facebook.com/v26.0/me")


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (classify(500, error_body(1, "An unknown error occurred")), True),
        (classify(500, error_body(2, is_transient=True)), True),
        (classify(400, error_body(1200)), True),
        (classify(503, None), True),
        (classify(400, error_body(9999, is_transient=True)), True),
        (MalformedResponse("truncated"), True),
        (GraphTimeout("slow"), True),
        (GraphConnectionError("reset"), True),
        (httpx.ReadTimeout("slow", request=REQ), True),
        (httpx.ConnectError("refused", request=REQ), True),
        (classify(400, error_body(4, is_transient=True)), True),
        (classify(400, error_body(17)), True),
        (classify(400, error_body(32)), True),
        (classify(400, error_body(341)), True),
        (classify(400, error_body(613)), True),
        (classify(400, error_body(80001)), True),
        (classify(400, error_body(80002)), True),
        (classify(400, error_body(80006)), True),
        (classify(400, error_body(10)), False),
        (classify(400, error_body(100)), False),
        (classify(400, error_body(100, is_transient=True)), False),
        (classify(500, error_body(100)), False),
        (classify(400, error_body(190)), False),
        (classify(400, error_body(190, subcode=460)), False),
        (classify(400, error_body(200)), False),
        (classify(400, error_body(250)), False),
        (classify(400, error_body(10, subcode=2018278)), False),
        (classify(400, error_body(551)), False),
        (ValueError("not an api error"), False),
    ],
)
def test_decision_table(error: BaseException, retry: bool) -> None:
    """Transient and throttled errors are retried on the first attempt; the rest never."""
    assert decide(error, 1, rand=lambda: 0.5).retry is retry


@pytest.mark.parametrize(
    "error",
    [
        TransientError("x"),
        Throttled("x"),
        ReduceData("x"),
        GraphTimeout("x"),
        TokenInvalid("x"),
        PermissionDenied("x"),
        PolicyRefused("x"),
        InvalidRequest("x"),
    ],
)
def test_sends_are_never_retried(error: BaseException) -> None:
    """A non-idempotent request (a send) is never retried, whatever the error."""
    assert decide(error, 1, idempotent=False).retry is False


def test_gives_up_at_max_attempts() -> None:
    """The attempt that reaches max_attempts is the last one."""
    policy = RetryPolicy(max_attempts=3)
    assert policy.decide(TransientError("x"), 2, rand=lambda: 0.5).retry is True
    assert policy.decide(TransientError("x"), 3, rand=lambda: 0.5).retry is False


def test_backoff_is_full_jitter_exponential_and_capped() -> None:
    """Delays stay within [0, min(cap, base*2^(n-1))] and reach the ceiling with rand→1."""
    policy = RetryPolicy(max_attempts=20, base=1.0, factor=2.0, cap=60.0)
    rng = random.Random(42)
    for attempt in range(1, 15):
        ceiling = min(60.0, 2.0 ** (attempt - 1))
        for _ in range(50):
            delay = policy.decide(TransientError("x"), attempt, rand=rng.random).delay
            assert 0.0 <= delay <= ceiling
        top = policy.decide(TransientError("x"), attempt, rand=lambda: 0.999999).delay
        assert top == pytest.approx(ceiling, rel=1e-3)
    assert policy.decide(TransientError("x"), 1, rand=lambda: 0.0).delay == 0.0


def test_cap_is_configurable() -> None:
    """A cron policy can use a larger cap (e.g. 5 minutes)."""
    policy = RetryPolicy(max_attempts=20, cap=300.0)
    assert policy.decide(TransientError("x"), 12, rand=lambda: 0.999999).delay > 290


def test_throttled_waits_the_regain_access_estimate() -> None:
    """A throttle with retry_after waits exactly that long."""
    error = Throttled("x", retry_after=180.0)
    decision = DEFAULT_POLICY.decide(error, 1)
    assert decision.retry and decision.delay == 180.0


def test_throttled_longer_than_max_wait_is_not_waited_for() -> None:
    """An estimate beyond max_wait goes back to the caller instead of blocking for an hour."""
    assert RetryPolicy(max_wait=300).decide(Throttled("x", retry_after=3600.0), 1).retry is False


def test_throttled_without_estimate_backs_off_at_least_half_the_ceiling() -> None:
    """Without an estimate a throttle waits ≥ throttle_base/2 (calling at once extends blocks)."""
    decision = DEFAULT_POLICY.decide(Throttled("x"), 1, rand=lambda: 0.0)
    assert decision.retry and decision.delay >= DEFAULT_POLICY.throttle_base / 2


def test_reduce_data_halves_without_waiting() -> None:
    """Code 1 'reduce the amount of data' retries at once with half the page size."""
    decision = decide(ReduceData("x"), 1)
    assert decision.retry and decision.halve_page and decision.delay == 0.0


def test_reduce_data_without_page_to_halve_is_plain_transient() -> None:
    """When nothing can be halved, code 1 backs off like any transient error."""
    decision = decide(ReduceData("x"), 1, can_halve=False, rand=lambda: 1.0)
    assert decision.retry and not decision.halve_page and decision.delay > 0
