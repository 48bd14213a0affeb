"""The token bucket: burst, refill, and no slot handed out twice across threads."""

from __future__ import annotations

import threading

import pytest

from recommendarr.shared.clients.rate_limit import RateLimiter, limiter_for


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.sleeps.append(seconds)


def test_a_burst_is_free_then_requests_are_spaced_by_the_rate() -> None:
    t = FakeTime()
    limiter = RateLimiter(2.0, burst=3, clock=t.clock, sleep=t.sleep)
    for _ in range(5):
        limiter.acquire()
    assert t.sleeps == [0.5, 1.0]


def test_tokens_refill_with_time_up_to_the_burst() -> None:
    t = FakeTime()
    limiter = RateLimiter(2.0, burst=2, clock=t.clock, sleep=t.sleep)
    limiter.acquire()
    limiter.acquire()
    t.now += 60.0  # a long pause refills only up to the burst
    for _ in range(3):
        limiter.acquire()
    assert t.sleeps == [0.5]


def test_concurrent_callers_each_get_their_own_slot() -> None:
    t = FakeTime()
    limiter = RateLimiter(10.0, burst=5, clock=t.clock, sleep=t.sleep)
    threads = [threading.Thread(target=limiter.acquire) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 5 from the burst, then 35 distinct reservations 0.1 s apart: none shared, none lost.
    assert sorted(round(s, 6) for s in t.sleeps) == [round(k / 10, 6) for k in range(1, 36)]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="rate_per_second"):
        RateLimiter(0, burst=1)
    with pytest.raises(ValueError, match="burst"):
        RateLimiter(1.0, burst=0)


def test_the_default_allows_a_second_of_requests_at_once() -> None:
    limiter = limiter_for(20.0)
    assert (limiter.rate, limiter.burst) == (20.0, 20)
    assert limiter_for(0.5).burst == 1
