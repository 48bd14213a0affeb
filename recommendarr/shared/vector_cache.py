"""Title vectors kept in worker memory, checked against the database on every use.

A ranking compares a few hundred candidates and liked titles by their vectors; fetching 768
floats per title each time was a quarter of a ranking's time. A vector changes only when its
title's facts do (embed_item then moves embedded_at), so a cached vector is reused while its
embedded_at still matches, and the least recently used are dropped beyond ``capacity``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import datetime

import numpy as np

from recommendarr.shared.db import Connection
from recommendarr.shared.store import vectors as vector_store

DEFAULT_CAPACITY = 20_000


class VectorCache:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._lock = threading.Lock()
        self._capacity = capacity
        self._entries: OrderedDict[tuple[str, int], tuple[datetime, np.ndarray]] = OrderedDict()

    def vectors(
        self, conn: Connection, item_ids: Iterable[int], model: str
    ) -> dict[int, np.ndarray]:
        """The vectors of those titles that have one under ``model``."""
        ids = list(item_ids)
        if not ids:
            return {}
        return self.with_versions(conn, vector_store.versions(conn, ids, model), model)

    def with_versions(
        self, conn: Connection, versions: Mapping[int, datetime], model: str
    ) -> dict[int, np.ndarray]:
        """The vectors of titles whose current embedded_at the caller has already read."""
        found: dict[int, np.ndarray] = {}
        missing: list[int] = []
        with self._lock:
            for item_id, version in versions.items():
                entry = self._entries.get((model, item_id))
                if entry is not None and entry[0] == version:
                    self._entries.move_to_end((model, item_id))
                    found[item_id] = entry[1]
                else:
                    missing.append(item_id)
        if missing:
            fetched = vector_store.vectors_with_versions(conn, missing, model)
            found.update({item_id: vector for item_id, (_, vector) in fetched.items()})
            self._remember(model, fetched)
        return found

    def _remember(self, model: str, fetched: Mapping[int, tuple[datetime, np.ndarray]]) -> None:
        with self._lock:
            for item_id, (version, vector) in fetched.items():
                vector.flags.writeable = False  # shared by every ranking in this process
                self._entries[(model, item_id)] = (version, vector)
                self._entries.move_to_end((model, item_id))
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
