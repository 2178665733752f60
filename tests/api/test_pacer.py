"""Client-side pacing (api/pacer.py and its use in the client loop)."""

from __future__ import annotations

import pytest

from socialdesk.api.pacer import Pacer
from socialdesk.models import RateUsage
from tests.api.conftest import FakeTime, Recorder, make_client, ok


def _run(pacer: Pacer, fake: FakeTime, edge: str, n: int, usage: RateUsage | None = None) -> None:
    for _ in range(n):
        wait = pacer.reserve(edge, usage)
        if wait > 0:
            fake.sleep(wait)


def test_ten_conversation_calls_are_spaced_with_headroom() -> None:
    """Under 2 calls/s with headroom: the 10th call starts 9 x 0.6 s after the first."""
    fake = FakeTime()
    start = fake.now
    _run(Pacer(monotonic=fake.monotonic), fake, "conversations", 10)
    assert fake.now - start == pytest.approx(5.4)
    assert min(fake.sleeps) == pytest.approx(0.6)


def test_no_one_second_window_ever_holds_three_calls_even_with_jitter() -> None:
    """Calls that reach Meta up to 0.2 s early or late never make three in any 1 s window."""
    import random

    fake = FakeTime()
    pacer = Pacer(monotonic=fake.monotonic)
    rng = random.Random(7)
    arrivals: list[float] = []
    for _ in range(200):
        wait = pacer.reserve("conversations")
        if wait > 0:
            fake.sleep(wait)
        arrivals.append(fake.now + rng.uniform(0.0, 0.2))  # network jitter
        fake.now += rng.uniform(0.0, 0.1)  # the call itself
    arrivals.sort()
    assert all(arrivals[i + 2] - arrivals[i] > 1.0 for i in range(len(arrivals) - 2))


def test_zero_headroom_is_refused() -> None:
    """A pacer without headroom is the bug the headroom fixes: refused at construction."""
    with pytest.raises(ValueError):
        Pacer(headroom=0)


def test_threads_sharing_a_pacer_never_get_the_same_slot() -> None:
    """Eight threads reserving at once get slots 0.6 s apart (the pacer is thread-safe)."""
    import threading

    clock = [0.0]
    pacer = Pacer(monotonic=lambda: clock[0])
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            w = pacer.reserve("messages")
            with lock:
                waits.append(w)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(round(w, 6) for w in waits) == [round(0.6 * i, 6) for i in range(200)]


def test_clients_of_one_page_share_its_pacer_and_usage() -> None:
    """Two clients built for the same page id share one pacer (and its usage); others do not."""
    from socialdesk.api.client import GraphClient
    from socialdesk.api.pacer import pacer_for

    a = GraphClient("EAAtokenA", page_id="p-shared")
    b = GraphClient("EAAtokenB", page_id="p-shared")
    c = GraphClient("EAAtokenC", page_id="p-other")
    assert a.pacer is b.pacer is pacer_for("p-shared")
    assert c.pacer is not a.pacer
    pacer_for("p-shared").record_usage(RateUsage(call_count=42))
    assert b.usage == RateUsage(call_count=42)
    for client in (a, b, c):
        client.close()


def test_unpaced_edges_do_not_wait_at_low_usage() -> None:
    """Feed calls are not under the Conversations API limit: no waiting below 75 %."""
    fake = FakeTime()
    _run(Pacer(monotonic=fake.monotonic), fake, "feed", 10, RateUsage(call_count=50))
    assert fake.sleeps == []


def test_time_already_spent_counts_toward_the_interval() -> None:
    """A call made 1 s after the previous one does not wait at all."""
    fake = FakeTime()
    pacer = Pacer(monotonic=fake.monotonic)
    assert pacer.reserve("conversations") == 0.0
    fake.now += 1.0
    assert pacer.reserve("conversations") == 0.0


@pytest.mark.parametrize(
    ("peak", "low", "high"),
    [
        (0, 0.0, 0.0),
        (74, 0.0, 0.0),
        (80, 0.5, 2.0),
        (90, 3.0, 4.5),
        (95, 4.9, 5.1),
        (100, 9.0, 60.0),
    ],
)
def test_extra_delay_grows_with_usage(peak: int, low: float, high: float) -> None:
    """No extra delay below 75 %, growing to ~5 s at 95 % and more at 100 %."""
    delay = Pacer().extra_delay(RateUsage(total_time=peak))
    assert low <= delay <= high


def test_high_usage_slows_the_client_down() -> None:
    """With usage at 90 % in the headers, later calls sleep several seconds each."""
    fake = FakeTime()
    headers = {"X-App-Usage": '{"call_count": 90, "total_time": 10, "total_cputime": 5}'}
    recorder = Recorder([ok({"id": "1", "name": "P"}, headers) for _ in range(3)])
    client = make_client(recorder, fake)
    for _ in range(3):
        client.get("/me")
    assert client.usage is not None and client.usage.peak == 90
    assert len(fake.sleeps) == 2
    assert all(s >= 3.0 for s in fake.sleeps)


def test_client_paces_conversation_calls() -> None:
    """Ten conversation GETs through the client cost ≥ 4.5 s of fake time."""
    fake = FakeTime()
    start = fake.now
    recorder = Recorder([ok({"data": []}) for _ in range(10)])
    client = make_client(recorder, fake)
    for _ in range(10):
        client.get("/111/conversations", {"limit": "100"}, edge="conversations")
    assert fake.now - start >= 4.5


def test_pace_false_never_sleeps() -> None:
    """pace=False turns pacing off."""
    fake = FakeTime()
    recorder = Recorder([ok({"data": []}) for _ in range(5)])
    client = make_client(recorder, fake, pace=False)
    for _ in range(5):
        client.get("/111/conversations", edge="conversations")
    assert fake.sleeps == []
