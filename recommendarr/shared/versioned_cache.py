"""A worker's least-recently-used store of values the database versions.

Each use names the current version of every key it wants (read by the caller, usually in the
query that picked the keys); an entry is served only while its version still matches, and the
least recently used are dropped beyond ``capacity``. Shared by the rankings' threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Version = TypeVar("Version")
Value = TypeVar("Value")


class VersionedCache(Generic[Key, Version, Value]):
    def __init__(self, capacity: int) -> None:
        self._lock = threading.Lock()
        self._capacity = capacity
        self._entries: OrderedDict[Key, tuple[Version, Value]] = OrderedDict()

    def current(self, versions: Mapping[Key, Version]) -> tuple[dict[Key, Value], list[Key]]:
        """The values still at these versions, and the keys to read again."""
        found: dict[Key, Value] = {}
        missing: list[Key] = []
        with self._lock:
            for key, version in versions.items():
                entry = self._entries.get(key)
                if entry is not None and entry[0] == version:
                    self._entries.move_to_end(key)
                    found[key] = entry[1]
                else:
                    missing.append(key)
        return found, missing

    def remember(self, fetched: Mapping[Key, tuple[Version, Value]]) -> None:
        with self._lock:
            for key, entry in fetched.items():
                self._entries[key] = entry
                self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
