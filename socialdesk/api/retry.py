"""The retry policy of the Graph client, as a pure function of (error, attempt).

``decide`` answers whether the client should try the same request again and how long to wait
first; it never sleeps and never calls the network (the client loop does the sleeping). Rules
(research/PERF_RELIABILITY.md §8, GRAPH_API.md §13):

- transient (codes 1, 2, 1200, HTTP 5xx, ``is_transient``, malformed bodies, timeouts,
  connection errors): full-jitter exponential backoff, ``base`` x ``factor`` per attempt, capped;
- throttled (4, 17, 32, 341, 613, 80001, 80002, 80006): wait ``retry_after`` (from
  ``estimated_time_to_regain_access``) when known, else a backoff that never goes near zero,
  because calling again at once extends the block; a wait longer than ``max_wait`` gives up;
- code 1 "reduce the amount of data", and a body over the client's size cap: retry at once with
  half the page size, when the request has a page size left to halve (otherwise code 1 is plain
  transient and an over-large body is not retried: it would come back as large);
- a timeout after the request was sent, on a request with a page size: retry with half the page
  size after the usual backoff (a heavy nested page may time out instead of answering code 1);
- permission, token, refusal and bad-request errors (10, 100, 190, 1/99, 200-series, 230,
  window errors…) are never retried, whatever ``is_transient`` says;
- requests that are not idempotent (sends) are never retried.

Called by ``api/client.py``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from socialdesk.api.errors import (
    DeadlineExceeded,
    GraphError,
    GraphTimeout,
    ReduceData,
    ResponseTooLarge,
    Throttled,
    TransientError,
)
from socialdesk.errors import AuthError, RefusedError, UsageError


@dataclass(frozen=True)
class RetryDecision:
    """What to do after a failed attempt."""

    retry: bool
    delay: float = 0.0
    """Seconds to wait before the next attempt."""
    halve_page: bool = False
    """Retry with half the page size (code 1 "reduce the amount of data")."""
    reason: str = ""
    """Short explanation for logs."""


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff parameters. The defaults suit interactive use; cron may raise ``cap``."""

    max_attempts: int = 6
    """Attempts in total, the first included."""
    base: float = 1.0
    factor: float = 2.0
    cap: float = 60.0
    """Upper bound of one transient backoff delay."""
    throttle_base: float = 5.0
    """First backoff when throttled without an estimate."""
    max_wait: float = 300.0
    """A throttle estimate longer than this is not waited for: the error goes to the caller."""

    def backoff(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Full-jitter delay after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.cap, self.base * self.factor ** max(0, attempt - 1))
        return rand() * ceiling

    def throttle_backoff(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Equal-jitter delay for a throttle without an estimate: at least half the ceiling."""
        ceiling = min(self.cap, self.throttle_base * self.factor ** max(0, attempt - 1))
        return ceiling / 2 + rand() * ceiling / 2

    def decide(
        self,
        error: BaseException,
        attempt: int,
        *,
        idempotent: bool = True,
        can_halve: bool = True,
        rand: Callable[[], float] = random.random,
    ) -> RetryDecision:
        """Whether to retry after ``error`` ended attempt number ``attempt`` (1-based).

        Args:
            error: the classified :class:`GraphError`, or a raw httpx transport exception.
            attempt: how many attempts have been made so far.
            idempotent: False for sends: then nothing is retried.
            can_halve: whether the request has a page size above 1 that can be halved.
            rand: a ``[0, 1)`` source, injectable for tests.
        """
        if not idempotent:
            return RetryDecision(False, reason="not idempotent")
        if isinstance(error, AuthError | RefusedError | UsageError | DeadlineExceeded):
            return RetryDecision(False, reason="not retryable")
        if isinstance(error, ResponseTooLarge):
            if can_halve and attempt < self.max_attempts:
                return RetryDecision(True, 0.0, halve_page=True, reason="answer too large")
            return RetryDecision(False, reason="answer too large")
        if attempt >= self.max_attempts:
            return RetryDecision(False, reason=f"gave up after {attempt} attempts")
        if isinstance(error, Throttled):
            if error.retry_after is not None and error.retry_after > 0:
                if error.retry_after > self.max_wait:
                    return RetryDecision(False, reason="throttled for longer than max_wait")
                return RetryDecision(True, error.retry_after, reason="throttled: regain access")
            return RetryDecision(True, self.throttle_backoff(attempt, rand), reason="throttled")
        if isinstance(error, ReduceData) and can_halve:
            return RetryDecision(True, 0.0, halve_page=True, reason="reduce the amount of data")
        if isinstance(error, GraphTimeout) and error.request_sent and can_halve:
            return RetryDecision(
                True, self.backoff(attempt, rand), halve_page=True, reason="timeout"
            )
        if isinstance(error, TransientError | httpx.TimeoutException | httpx.TransportError):
            return RetryDecision(True, self.backoff(attempt, rand), reason="transient")
        if isinstance(error, GraphError) and error.is_transient and error.code not in _NEVER:
            return RetryDecision(True, self.backoff(attempt, rand), reason="is_transient")
        return RetryDecision(False, reason="not retryable")


# is_transient on these never makes them worth another try (a bad token stays bad).
_NEVER = frozenset({10, 100, 102, 190, 230, 551, 3}) | frozenset(range(200, 300))

DEFAULT_POLICY = RetryPolicy()


def decide(
    error: BaseException,
    attempt: int,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    idempotent: bool = True,
    can_halve: bool = True,
    rand: Callable[[], float] = random.random,
) -> RetryDecision:
    """:meth:`RetryPolicy.decide` with the default (or a given) policy."""
    return policy.decide(error, attempt, idempotent=idempotent, can_halve=can_halve, rand=rand)
