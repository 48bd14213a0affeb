"""A short memory of which user a token hash belongs to, so reads skip a query per request.

Only successful lookups are kept, for TTL_S: a revoked token stops working within that time,
and a token issued a moment ago works at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

TTL_S = 30.0
MAX_ENTRIES = 10_000


class TokenCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.entries: dict[bytes, tuple[int, float]] = {}
        self.lock = threading.Lock()

    def get(self, token_hash: bytes) -> int | None:
        with self.lock:
            entry = self.entries.get(token_hash)
            if entry is None:
                return None
            user_id, expires = entry
            if expires <= self.clock():
                del self.entries[token_hash]
                return None
            return user_id

    def put(self, token_hash: bytes, user_id: int) -> None:
        with self.lock:
            if len(self.entries) >= MAX_ENTRIES:
                self.entries.clear()  # a flood of distinct valid tokens is not worth an LRU
            self.entries[token_hash] = (user_id, self.clock() + TTL_S)
