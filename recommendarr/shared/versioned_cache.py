"""A worker's least-recently-used store of values the database versions.

Each entry remembers the version it was read at and the change-log stamp (store.change_logs)
it was last checked under. While the stamp has not moved, nothing it could depend on has
changed, so the entry is served as it is; after the stamp moves, the current versions of the
keys asked for are read and an entry is served only while its version still matches.
An absent value (no row) is remembered too, with version None, so that asking again for a
title that has no vector costs nothing. The least recently used are dropped beyond
``capacity``. Shared by the rankings' threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Generic, TypeVar

from recommendarr.shared.store.change_logs import Stamp

Key = TypeVar("Key", bound=Hashable)
Version = TypeVar("Version")
Value = TypeVar("Value")


class VersionedCache(Generic[Key, Version, Value]):
    def __init__(self, capacity: int) -> None:
        self._lock = threading.Lock()
        self._capacity = capacity
        # key -> [version or None when absent, value or None when absent, stamp last checked]
        self._entries: OrderedDict[Key, list[object]] = OrderedDict()
        # The stamp entries were last checked under, one object for all of them: a ranking
        # checks thousands of entries, and telling the same stamp by identity is cheaper than
        # comparing its fields each time.
        self._stamp: Stamp | None = None

    def read(
        self,
        keys: Iterable[Key],
        stamp: Stamp,
        read_versions: Callable[[list[Key]], Mapping[Key, Version]],
        fetch: Callable[[list[Key]], Mapping[Key, tuple[Version, Value]]],
    ) -> dict[Key, Value]:
        """The values of those keys that have one: served from memory where the stamp or the
        version says nothing changed. ``read_versions`` gives the current versions of the keys
        it is passed (the keys without a row left out), ``fetch`` their versions and values."""
        stamp = self._shared(stamp)
        found, unchecked = self._checked(keys, stamp)
        if unchecked:
            versions = read_versions(unchecked)
            current, missing = self._current({key: versions.get(key) for key in unchecked}, stamp)
            found.update(current)
            if missing:
                fetched = fetch(missing)
                found.update({key: value for key, (_, value) in fetched.items()})
                self._remember(fetched, stamp)
        return found

    def _shared(self, stamp: Stamp) -> Stamp:
        """``stamp``, as the one object every entry checked under it holds."""
        with self._lock:
            if self._stamp is None or self._stamp != stamp:
                self._stamp = stamp
            return self._stamp

    def _checked(self, keys: Iterable[Key], stamp: Stamp) -> tuple[dict[Key, Value], list[Key]]:
        """The values (absent ones left out) of entries checked under this stamp, and the keys
        whose versions must be read."""
        found: dict[Key, Value] = {}
        unchecked: list[Key] = []
        get, used = self._entries.get, self._entries.move_to_end
        with self._lock:
            for key in keys:
                entry = get(key)
                if entry is not None and (entry[2] is stamp or entry[2] == stamp):
                    used(key)
                    if entry[1] is not None:
                        found[key] = entry[1]  # type: ignore[assignment]
                else:
                    unchecked.append(key)
        return found, unchecked

    def _current(
        self, versions: Mapping[Key, Version | None], stamp: Stamp
    ) -> tuple[dict[Key, Value], list[Key]]:
        """The values still at these versions (None: the key has no row), and the keys to read
        again; every entry that matched counts as checked under ``stamp``."""
        found: dict[Key, Value] = {}
        missing: list[Key] = []
        with self._lock:
            for key, version in versions.items():
                entry = self._entries.get(key)
                if entry is not None and entry[0] == version:
                    entry[2] = stamp
                    self._entries.move_to_end(key)
                    if entry[1] is not None:
                        found[key] = entry[1]  # type: ignore[assignment]
                elif version is None:
                    self._store(key, [None, None, stamp])
                else:
                    missing.append(key)
            self._evict()
        return found, missing

    def _remember(self, fetched: Mapping[Key, tuple[Version, Value]], stamp: Stamp) -> None:
        with self._lock:
            for key, (version, value) in fetched.items():
                self._store(key, [version, value, stamp])
            self._evict()

    def _store(self, key: Key, entry: list[object]) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)

    def _evict(self) -> None:
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
