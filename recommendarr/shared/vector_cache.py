"""Title vectors kept in worker memory, checked against the database on every use.

A ranking compares a few hundred candidates and liked titles by their vectors; fetching 768
floats per title each time was a quarter of a ranking's time. A vector changes only when its
title's facts do (embed_item then moves embedded_at and notes a title change, schema.sql),
so a cached vector is served as it is while no title has changed since it was last checked,
and after that while its embedded_at still matches; titles without a vector are remembered
as such. The least recently used are dropped beyond ``capacity``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import numpy as np

from recommendarr.shared.db import Connection
from recommendarr.shared.store import change_logs
from recommendarr.shared.store import vectors as vector_store
from recommendarr.shared.store.change_logs import Stamp
from recommendarr.shared.versioned_cache import VersionedCache

DEFAULT_CAPACITY = 20_000


class VectorCache:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._entries: VersionedCache[tuple[str, int], datetime, np.ndarray] = VersionedCache(
            capacity
        )

    def vectors(
        self, conn: Connection, item_ids: Iterable[int], model: str, stamp: Stamp | None = None
    ) -> dict[int, np.ndarray]:
        """The vectors of those titles that have one under ``model``. ``stamp``: the
        title_changes stamp read at the start of the caller's work (read here when not given)."""
        if stamp is None:
            stamp = change_logs.stamp(conn, "title_changes")

        def versions(keys: list[tuple[str, int]]) -> dict[tuple[str, int], datetime]:
            read = vector_store.versions(conn, [i for _, i in keys], model)
            return {(model, i): version for i, version in read.items()}

        def fetch(
            keys: list[tuple[str, int]],
        ) -> dict[tuple[str, int], tuple[datetime, np.ndarray]]:
            fetched = vector_store.vectors_with_versions(conn, [i for _, i in keys], model)
            for _, vector in fetched.values():
                vector.flags.writeable = False  # shared by every ranking in this process
            return {(model, i): entry for i, entry in fetched.items()}

        found = self._entries.read(((model, i) for i in item_ids), stamp, versions, fetch)
        return {item_id: vector for (_, item_id), vector in found.items()}
