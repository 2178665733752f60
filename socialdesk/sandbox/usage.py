"""Meta's call budgets for Page tokens, as the sandbox counts and enforces them.

Owned by ``engine.Sandbox`` (one ``Meter``), called by ``handler`` once per authenticated call.
The model (GRAPH_API.md §10, "Sandbox budgets"):

- Business Use Case (BUC) budgets per business object (the Page) over a rolling 24 h:
  ``pages`` = 4,800 × engaged users (every Page-token call), ``messenger`` = 200 × engaged users
  (Conversations API reads and sends). Engaged users are derived from the data: for
  ``messenger`` the people who wrote to the Page in the last 24 h ("people the business can
  message"), for ``pages`` those plus the people who commented; at least one. Tests can set the
  count per Page. A throttled call still counts ("calls made during this phase count towards
  subsequent limit calculations", 2016 Page rate-limit post), so a client that keeps calling
  stays blocked.
- Exhaustion answers 80006 (messenger) or 32 (pages), with ``X-Business-Use-Case-Usage``
  showing 100 % and ``estimated_time_to_regain_access`` = minutes until enough calls leave the
  window.
- The Conversations API's "2 calls per second per Page" is a token bucket of 2 refilled at
  2 per second: a client spacing its calls 0.5 s apart (with jitter either way) is never
  refused; three calls in one burst are. A refusal answers 80006 and costs no BUC minutes.

- Instagram (INSTAGRAM_API.md §8): media and comment calls count against the account's
  ``instagram`` budget, 4,800 × impressions per 24 h, keyed by the IG user id (80002 when
  spent); impressions are derived as the people who wrote or commented in 24 h (at least one:
  the small budget of a quiet account) unless a test sets them. Instagram DMs count against the
  Page's Messenger budget as well (unknown which counter Meta uses: the stricter reading) and
  have their own 2 calls/s bucket per Instagram account. Private replies: 750 per hour per
  account.

``flat_budget`` (``Sandbox(usage_budget=N)``) replaces the derived budgets by N calls per
``window_s`` for both types: benchmarks and soak tests use a huge N to measure calls, not
throttling.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .model import IgAccount, Page, State, to_us

MESSENGER_PER_USER = 200
PAGES_PER_USER = 4800
IG_PER_IMPRESSION = 4800
IG_PRIVATE_REPLIES_PER_HOUR = 750
BUC_WINDOW_S = 86_400.0
ENGAGED_WINDOW = timedelta(hours=24)
CONV_BUCKET = 2.0
"""Conversations API calls allowed in one burst per Page (and per second, sustained)."""
CONV_RATE = 2.0
"""Conversations API calls per second per Page (Messenger rate-limiting page, Mar 2026)."""
BUC_TYPES = ("pages", "messenger")

_US = 1_000_000


@dataclass
class _Bucket:
    tokens: float
    at_us: int


@dataclass(frozen=True)
class Verdict:
    """What the meter says about one call: ``code`` is the throttle error to answer, if any."""

    code: int | None = None
    regain_minutes: int = 0


class Meter:
    """Rolling call counts per business object and type, plus the per-second buckets."""

    def __init__(self, *, flat_budget: int | None = None, window_s: float = BUC_WINDOW_S) -> None:
        self.flat_budget = flat_budget
        self.window_s = window_s
        self._calls: dict[tuple[str, str], deque[int]] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._engaged_cache: dict[tuple[str, str], tuple[tuple[int, int], int]] = {}

    def reset(self) -> None:
        """Forget every counted call and refill every bucket."""
        self._calls.clear()
        self._buckets.clear()

    # -- engaged users and budgets ---------------------------------------------------------

    def engaged_users(self, state: State, page: Page, kind: str, now: datetime) -> int:
        """People who count for ``kind``'s budget (cached per minute and per data change)."""
        if page.engaged_users is not None:
            return max(0, page.engaged_users)
        key = (state.activity_gen, to_us(now) // (60 * _US))
        cached = self._engaged_cache.get((page.id, kind))
        if cached is not None and cached[0] == key:
            return cached[1]
        since = now - ENGAGED_WINDOW
        people: set[str] = set()
        for cid in page.conversations:
            conv = state.conversations[cid]
            if conv.platform != "messenger":
                continue  # Instagram people are not "people the business can message through
                # Messenger"; they count for the account's own budget
            last = conv.last_user_message()
            if last is not None and last.at > since:
                people.add(last.sender_id)
        if kind == "pages":
            for pid in page.posts:
                post = state.posts[pid]
                if post.author_id is not None and post.at > since:
                    people.add(post.author_id)
                for cid in reversed(post.comments):
                    comment = state.comments[cid]
                    if comment.at <= since:
                        break  # post.comments is chronological
                    if comment.from_id != page.id:
                        people.add(comment.from_id)
        count = max(1, len(people))
        self._engaged_cache[(page.id, kind)] = (key, count)
        return count

    def budget(self, state: State, page: Page, kind: str, now: datetime) -> int:
        """Calls allowed in the window for ``kind`` on this Page."""
        if self.flat_budget is not None:
            return self.flat_budget
        per_user = MESSENGER_PER_USER if kind == "messenger" else PAGES_PER_USER
        return per_user * self.engaged_users(state, page, kind, now)

    # -- counting --------------------------------------------------------------------------

    def _window(self, obj_id: str, kind: str, now_us: int) -> deque[int]:
        dq = self._calls.setdefault((obj_id, kind), deque())
        edge = now_us - int(self.window_s * _US)
        while dq and dq[0] <= edge:
            dq.popleft()
        return dq

    def charge(self, state: State, page: Page, kinds: Iterable[str], now: datetime) -> Verdict:
        """Count one call against each of ``kinds``; the first exhausted one throttles it."""
        now_us = to_us(now)
        verdict = Verdict()
        for kind in kinds:
            dq = self._window(page.id, kind, now_us)
            dq.append(now_us)
            budget = self.budget(state, page, kind, now)
            if len(dq) > budget and verdict.code is None:
                code = 80006 if kind == "messenger" else 32
                verdict = Verdict(code, self._regain_minutes(dq, budget, now_us))
        return verdict

    def _regain_minutes(self, dq: deque[int], budget: int, now_us: int) -> int:
        """Minutes until the window holds no more than ``budget`` calls again."""
        excess = len(dq) - budget
        if excess <= 0:
            return 0
        frees_at = dq[excess - 1] + int(self.window_s * _US)
        return max(1, math.ceil((frees_at - now_us) / (60 * _US)))

    def conversation_call_ok(self, obj_id: str, now: datetime) -> bool:
        """Take a token from the Page's Conversations API bucket (False: none left)."""
        now_us = to_us(now)
        bucket = self._buckets.get(obj_id)
        if bucket is None:
            bucket = self._buckets[obj_id] = _Bucket(CONV_BUCKET, now_us)
        elapsed = max(0, now_us - bucket.at_us) / _US
        bucket.tokens = min(CONV_BUCKET, bucket.tokens + elapsed * CONV_RATE)
        bucket.at_us = max(bucket.at_us, now_us)
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True

    # -- headers ---------------------------------------------------------------------------

    def buc_entries(
        self,
        state: State,
        page: Page,
        now: datetime,
        *,
        kinds: Iterable[str] = BUC_TYPES,
        force_regain: int = 0,
    ) -> list[dict[str, Any]]:
        """The ``X-Business-Use-Case-Usage`` entries of one business object."""
        now_us = to_us(now)
        entries = []
        for kind in kinds:
            dq = self._window(page.id, kind, now_us)
            budget = max(1, self.budget(state, page, kind, now))
            pct = min(100, len(dq) * 100 // budget)
            regain = self._regain_minutes(dq, budget, now_us)
            if force_regain:
                pct, regain = 100, max(regain, force_regain)
            entries.append(
                {
                    "type": kind,
                    "call_count": pct,
                    "total_cputime": pct // 2,
                    "total_time": pct // 2,
                    "estimated_time_to_regain_access": regain,
                }
            )
        return entries

    def calls_in_window(self, obj_id: str, kind: str, now: datetime) -> int:
        """How many calls of ``kind`` the rolling window holds now (for tests)."""
        return len(self._window(obj_id, kind, to_us(now)))

    # -- Instagram -------------------------------------------------------------------------

    def impressions(self, state: State, account: IgAccount, now: datetime) -> int:
        """The impressions behind the account's budget (derived: people active in 24 h)."""
        if account.impressions is not None:
            return max(0, account.impressions)
        key = (state.activity_gen, to_us(now) // (60 * _US))
        cached = self._engaged_cache.get((account.id, "instagram"))
        if cached is not None and cached[0] == key:
            return cached[1]
        since = now - ENGAGED_WINDOW
        people: set[str] = set()
        page = state.pages[account.page_id]
        for cid in page.conversations:
            conv = state.conversations[cid]
            last = conv.last_user_message() if conv.platform == "instagram" else None
            if last is not None and last.at > since:
                people.add(last.sender_id)
        for mid in account.media:
            for cid in reversed(state.ig_media[mid].comments):
                comment = state.ig_comments[cid]
                if comment.at <= since:
                    break
                if comment.from_id != account.id:
                    people.add(comment.from_id)
        count = max(1, len(people))
        self._engaged_cache[(account.id, "instagram")] = (key, count)
        return count

    def _ig_budget(self, state: State, account: IgAccount, now: datetime) -> int:
        if self.flat_budget is not None:
            return self.flat_budget
        return IG_PER_IMPRESSION * self.impressions(state, account, now)

    def charge_ig(self, state: State, account: IgAccount, now: datetime) -> Verdict:
        """Count one Instagram Graph call (media, comments); 80002 once the budget is spent."""
        now_us = to_us(now)
        dq = self._window(account.id, "instagram", now_us)
        dq.append(now_us)
        budget = self._ig_budget(state, account, now)
        if len(dq) > budget:
            return Verdict(80002, self._regain_minutes(dq, budget, now_us))
        return Verdict()

    def ig_entries(
        self, state: State, account: IgAccount, now: datetime, *, force_regain: int = 0
    ) -> list[dict[str, Any]]:
        """The ``X-Business-Use-Case-Usage`` entry (``type: instagram``) of an IG account."""
        now_us = to_us(now)
        dq = self._window(account.id, "instagram", now_us)
        budget = max(1, self._ig_budget(state, account, now))
        pct = min(100, len(dq) * 100 // budget)
        regain = self._regain_minutes(dq, budget, now_us)
        if force_regain:
            pct, regain = 100, max(regain, force_regain)
        return [
            {
                "type": "instagram",
                "call_count": pct,
                "total_cputime": pct // 2,
                "total_time": pct // 2,
                "estimated_time_to_regain_access": regain,
            }
        ]

    def private_reply_ok(self, ig_id: str, now: datetime) -> bool:
        """Count one Instagram private reply; False past 750 in the last hour."""
        now_us = to_us(now)
        dq = self._calls.setdefault((ig_id, "ig_private_replies"), deque())
        while dq and dq[0] <= now_us - 3600 * _US:
            dq.popleft()
        if len(dq) >= IG_PRIVATE_REPLIES_PER_HOUR:
            return False
        dq.append(now_us)
        return True
