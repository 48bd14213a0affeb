"""Title vectors kept in worker memory, checked against the database on every use.

A ranking compares a few hundred candidates and liked titles by their vectors; fetching 768
floats per title each time was a quarter of a ranking's time. A vector changes only when its
title's facts do (embed_item then moves embedded_at), so a cached vector is reused while its
embedded_at still matches, and the least recently used are dropped beyond ``capacity``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import numpy as np

from recommendarr.shared.db import Connection
from recommendarr.shared.store import vectors as vector_store
from recommendarr.shared.versioned_cache import VersionedCache

DEFAULT_CAPACITY = 20_000


class VectorCache:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._entries: VersionedCache[tuple[str, int], datetime, np.ndarray] = VersionedCache(
            capacity
        )

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
        cached, missing = self._entries.current({(model, i): v for i, v in versions.items()})
        found = {item_id: vector for (_, item_id), vector in cached.items()}
        if missing:
            fetched = vector_store.vectors_with_versions(conn, [i for _, i in missing], model)
            for _, vector in fetched.values():
                vector.flags.writeable = False  # shared by every ranking in this process
            found.update({item_id: vector for item_id, (_, vector) in fetched.items()})
            self._entries.remember({(model, i): entry for i, entry in fetched.items()})
        return found
