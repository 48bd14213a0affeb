"""A thread-safe token bucket shared by every worker thread that calls one upstream."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """`rate_per_second` tokens refill continuously up to `burst`; each request takes one.

    A caller that finds the bucket empty reserves the next token (the balance goes negative)
    and sleeps outside the lock until it is due, so waiting threads are served in arrival order
    and none of them holds the lock while sleeping.
    """

    def __init__(
        self,
        rate_per_second: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = rate_per_second
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._updated = clock()

    def acquire(self) -> None:
        wait = self._reserve()
        if wait > 0:
            self._sleep(wait)

    def try_acquire(self) -> float:
        """Take a token if one is there (0.0); otherwise the seconds until one will be."""
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._updated)
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
            self._updated = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self.rate

    def _reserve(self) -> float:
        """Take a token now or book the next one; the seconds to wait before using it."""
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._updated)
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
            self._updated = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


def limiter_for(requests_per_second: float) -> RateLimiter:
    """A bucket that allows about one second's worth of requests in a burst."""
    return RateLimiter(requests_per_second, burst=max(1, int(requests_per_second)))
