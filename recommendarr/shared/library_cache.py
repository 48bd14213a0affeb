"""Which title sits in which library, loaded once per process and reloaded when it changes.

Every ranking needs the titles of the user's visible libraries (and their genres: what the user
could have watched and never did). Reading 20,000 rows for each
ranking costs more than the ranking itself; a checksum of the table costs a scan of its index.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from recommendarr.shared.db import Connection


@dataclass(frozen=True)
class LibraryMembership:
    """One row per (library, title), sorted by title then domain."""

    item_ids: np.ndarray
    library_ids: np.ndarray
    domains: tuple[str, ...]
    genres: dict[int, tuple[str, ...]]


class LibraryCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: tuple[tuple[object, ...], LibraryMembership] | None = None

    def membership(self, conn: Connection) -> LibraryMembership:
        stamp = membership_stamp(conn)
        with self._lock:
            if self._loaded is not None and self._loaded[0] == stamp:
                return self._loaded[1]
        loaded = load_membership(conn)
        with self._lock:
            self._loaded = (stamp, loaded)
        return loaded


def membership_stamp(conn: Connection) -> tuple[object, ...]:
    """Changes whenever a title joins, leaves or moves library, or a library changes domain."""
    row = conn.execute(
        "SELECT count(*) AS n, max(id) AS last, sum(item_id) AS items, "
        "sum(item_id * (library_id % 1000003)) AS pairs, "
        "(SELECT string_agg(id || ':' || domain, ',' ORDER BY id) FROM libraries) AS domains, "
        "(SELECT max(fetched_at) FROM items) AS facts "
        "FROM library_items"
    ).fetchone()
    assert row is not None
    return tuple(row.values())


def load_membership(conn: Connection) -> LibraryMembership:
    rows = conn.execute(
        "SELECT li.item_id, li.library_id, l.domain, i.genres FROM library_items li "
        "JOIN libraries l ON l.id = li.library_id JOIN items i ON i.id = li.item_id "
        "ORDER BY li.item_id, l.domain"
    ).fetchall()
    return LibraryMembership(
        item_ids=np.array([r["item_id"] for r in rows], dtype=np.int64),
        library_ids=np.array([r["library_id"] for r in rows], dtype=np.int64),
        domains=tuple(str(r["domain"]) for r in rows),
        genres={int(r["item_id"]): tuple(r["genres"] or ()) for r in rows},
    )
