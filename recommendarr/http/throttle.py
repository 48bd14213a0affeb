"""Per-key request budgets for the HTTP layer (per webhook token, per client address)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Hashable

from starlette.exceptions import HTTPException

from recommendarr.shared.clients.rate_limit import RateLimiter

MAX_KEYS = 10_000


class KeyedLimiter:
    def __init__(
        self, rate_per_second: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate_per_second
        self.burst = burst
        self.clock = clock
        self.buckets: dict[Hashable, RateLimiter] = {}
        self.lock = threading.Lock()

    def bucket(self, key: Hashable) -> RateLimiter:
        with self.lock:
            bucket = self.buckets.get(key)
            if bucket is None:
                if len(self.buckets) >= MAX_KEYS:
                    self.buckets.clear()  # forgetting budgets only ever lets a request through
                bucket = RateLimiter(self.rate, self.burst, clock=self.clock)
                self.buckets[key] = bucket
            return bucket

    def check(self, key: Hashable, what: str) -> None:
        """Spend one request from the key's budget, or answer 429 with Retry-After."""
        wait = self.bucket(key).try_acquire()
        if wait > 0:
            raise HTTPException(
                429,
                f"too many {what}; retry in {wait:.1f} s",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
