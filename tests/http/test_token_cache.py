from __future__ import annotations

from recommendarr.http.token_cache import TTL_S, TokenCache


def test_entries_expire_after_the_ttl() -> None:
    now = [100.0]
    cache = TokenCache(clock=lambda: now[0])
    cache.put(b"h", 7)
    assert cache.get(b"h") == 7
    now[0] += TTL_S - 0.1
    assert cache.get(b"h") == 7
    now[0] += 0.2
    assert cache.get(b"h") is None
    assert cache.get(b"other") is None
