"""Meta's BUC budgets (200 / 4,800 × engaged users per 24 h) and the 2 calls/s token bucket."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import httpx

from socialdesk.sandbox import Sandbox

from .conftest import NOW, World, error_of, make_world


def entry(resp: httpx.Response, page: str, kind: str) -> dict[str, int]:
    """The ``kind`` entry of X-Business-Use-Case-Usage."""
    entries = json.loads(resp.headers["x-business-use-case-usage"])[page]
    return next(e for e in entries if e["type"] == kind)


def test_engaged_users_come_from_the_data() -> None:
    """Messenger: people who wrote in 24 h (at least 1); pages: also the commenters."""
    w = make_world()  # alice wrote 2 h ago, bob 30 h ago; alice commented 3 h ago
    assert w.sb.engaged_users(w.page, "messenger") == 1
    w.sb.add_message(w.page, w.bob, "still there?")
    carol = w.sb.add_user("Carol")
    w.sb.add_comment(w.post, carol, "nice")
    assert w.sb.engaged_users(w.page, "messenger") == 2
    assert w.sb.engaged_users(w.page, "pages") == 3
    w.sb.advance(25 * 3600)
    assert w.sb.engaged_users(w.page, "messenger") == 1  # nobody: the floor of one
    w.sb.set_engaged_users(w.page, 50)
    assert w.sb.engaged_users(w.page, "messenger") == 50


def test_messenger_percentages_follow_200_per_engaged_user() -> None:
    """Two engaged users: 400 Messenger calls / 24 h; 40 calls show 10 %; pages counts them too."""
    w = make_world()
    w.sb.set_engaged_users(w.page, 2)
    for _ in range(40):
        last = w.get(f"/{w.page}/conversations")
    assert entry(last, w.page, "messenger")["call_count"] == 10
    assert entry(last, w.page, "pages")["call_count"] == 0  # 40 of 9,600
    feed = w.get(f"/{w.page}/feed")
    assert entry(feed, w.page, "messenger")["call_count"] == 10  # feed is not Messenger


def test_exhausted_messenger_budget_answers_80006_and_stays_blocked() -> None:
    """Call 201 of 200 answers 80006 with 100 % and minutes to regain; calls keep counting."""
    w = make_world()
    w.sb.set_engaged_users(w.page, 1)
    for i in range(200):
        w.sb.advance(60)  # spread over 200 minutes
        assert w.get(f"/{w.page}/conversations").status_code == 200, i
    over = w.get(f"/{w.page}/conversations")
    err = error_of(over)
    assert over.status_code == 400 and err["code"] == 80006 and err["is_transient"] is True
    messenger = entry(over, w.page, "messenger")
    assert messenger["call_count"] == 100
    # The oldest calls leave the window 24 h after they were made: 24 h - 199 min from now.
    assert messenger["estimated_time_to_regain_access"] == 24 * 60 - 199
    assert w.send("x").status_code == 400  # sends are Messenger calls too
    assert w.get(f"/{w.page}/feed").status_code == 200  # the pages budget is untouched
    w.sb.advance(24 * 3600)
    assert w.get(f"/{w.page}/conversations").status_code == 200


def test_exhausted_pages_budget_answers_32() -> None:
    """The pages budget (flat here, to keep the test short) answers code 32 when spent."""
    w = make_world()
    w.sb.usage_budget = 5
    for _ in range(5):
        assert w.get(f"/{w.page}/feed").status_code == 200
    err = error_of(w.get(f"/{w.page}/feed"))
    assert err["code"] == 32 and err["message"] == "(#32) Page request limit reached"


def test_token_bucket_lets_a_paced_client_through() -> None:
    """Calls sent every 0.5 s that arrive with 0-80 ms of network jitter are never refused (a
    sliding 1 s window would refuse some: three arrivals can fall within one second); a burst of
    three is refused."""
    w = make_world(rate_limit=True)
    w.sb.set_engaged_users(w.page, 100)
    rng = random.Random(7)
    path = f"/{w.page}/conversations"
    previous_jitter = 0.0
    for _ in range(300):
        jitter = rng.uniform(0.0, 0.08)
        w.sb.advance(0.5 + jitter - previous_jitter)
        previous_jitter = jitter
        assert w.get(path).status_code == 200
    w.sb.advance(1.0)
    codes = [w.get(path).status_code for _ in range(3)]
    assert codes == [200, 200, 400]


def test_sliding_window_would_have_refused_what_the_bucket_accepts() -> None:
    """Calls at 0, 0.5 and 0.98 s: three in one second, yet 2/s sustained: accepted."""
    w = make_world(rate_limit=True)
    path = f"/{w.page}/conversations"
    assert w.get(path).status_code == 200
    w.sb.advance(0.5)
    assert w.get(path).status_code == 200
    w.sb.advance(0.48)
    assert w.get(path).status_code == 200


def test_demo_budget_scales_with_its_customers() -> None:
    """A 3,000-thread demo has hundreds of engaged users: a first sync fits easily."""
    from socialdesk.sandbox import build_demo

    sb, page, _ = build_demo(seed=0, threads=3000, now=NOW)
    engaged = sb.engaged_users(page, "messenger")
    assert engaged > 500
    assert isinstance(sb, Sandbox)
    assert sb.usage_budget is None


def test_flat_budget_keeps_old_callers_quiet(world: World) -> None:
    """usage_budget=10**6 (soak tests, benchmarks) never throttles and keeps headers near 0."""
    world.sb.usage_budget = 10**6
    resp = world.get(f"/{world.page}/conversations")
    assert entry(resp, world.page, "messenger")["call_count"] == 0
    world.sb.usage_budget = None
    world.sb.advance(timedelta(minutes=1).total_seconds())
    assert world.get(f"/{world.page}/conversations").status_code == 200
