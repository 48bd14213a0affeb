"""Which title sits in which library, loaded once per process and reloaded when it changes.

Every ranking needs the titles of the user's visible libraries (their genres: what the user
could have watched and never did; and when each arrived: an eager start counts). Reading 20,000
rows for each ranking costs more than the ranking itself; triggers record every change in
library_changes, whose summary is one index lookup.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from recommendarr.shared.db import Connection
from recommendarr.shared.store import change_logs
from recommendarr.shared.store.change_logs import Stamp


@dataclass(frozen=True)
class LibraryMembership:
    """One row per (library, title), sorted by title then domain; and per distinct title (in
    ``titles`` order) its genres as indexes into ``genre_names``, packed so a user's pool counts
    its genres with one bincount instead of a loop over twenty thousand titles."""

    item_ids: np.ndarray
    library_ids: np.ndarray
    domain_codes: np.ndarray
    domain_names: tuple[str, ...]
    genres: dict[int, tuple[str, ...]]
    added_at: dict[int, datetime]
    titles: np.ndarray
    genre_counts: np.ndarray
    genre_ids: np.ndarray
    genre_names: tuple[str, ...]

    def domain_of_rows(self, rows: np.ndarray) -> list[str]:
        return [self.domain_names[code] for code in self.domain_codes[rows].tolist()]

    def held_in(self, item_ids: Iterable[int], library_ids: Iterable[int]) -> set[int]:
        """Those titles that sit in at least one of these libraries."""
        wanted = np.fromiter(item_ids, dtype=np.int64)
        rows = np.isin(self.library_ids, np.fromiter(library_ids, dtype=np.int64))
        rows &= np.isin(self.item_ids, wanted)
        return set(self.item_ids[rows].tolist())

    def offered_genres(self, item_ids: np.ndarray) -> dict[str, int]:
        """How many of these titles (each a library title, once) carry each genre."""
        chosen = np.zeros(len(self.titles), dtype=bool)
        positions = np.searchsorted(self.titles, item_ids)
        known = positions < len(self.titles)
        known[known] = self.titles[positions[known]] == item_ids[known]
        chosen[positions[known]] = True
        counts = np.bincount(
            self.genre_ids[np.repeat(chosen, self.genre_counts)], minlength=len(self.genre_names)
        )
        return {self.genre_names[g]: int(counts[g]) for g in np.flatnonzero(counts).tolist()}


class LibraryCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: tuple[Stamp, LibraryMembership] | None = None

    def membership(self, conn: Connection) -> LibraryMembership:
        stamp = membership_stamp(conn)
        with self._lock:
            if self._loaded is not None and self._loaded[0] == stamp:
                return self._loaded[1]
        loaded = load_membership(conn)
        with self._lock:
            self._loaded = (stamp, loaded)
        return loaded


def membership_stamp(conn: Connection) -> Stamp:
    return change_logs.stamp(conn, "library_changes")


def load_membership(conn: Connection) -> LibraryMembership:
    rows = conn.execute(
        "SELECT li.item_id, li.library_id, l.domain, i.genres, li.added_at FROM library_items li "
        "JOIN libraries l ON l.id = li.library_id JOIN items i ON i.id = li.item_id "
        "ORDER BY li.item_id, l.domain"
    ).fetchall()
    domain_names = tuple(sorted({str(r["domain"]) for r in rows}))
    domain_code = {name: code for code, name in enumerate(domain_names)}
    genres = {int(r["item_id"]): tuple(r["genres"] or ()) for r in rows}
    added_at: dict[int, datetime] = {}
    for r in rows:
        first = added_at.get(r["item_id"])
        if r["added_at"] is not None and (first is None or r["added_at"] < first):
            added_at[int(r["item_id"])] = r["added_at"]
    titles = np.array(sorted(genres), dtype=np.int64)
    genre_names = tuple(sorted({g for names in genres.values() for g in names}))
    genre_code = {name: code for code, name in enumerate(genre_names)}
    return LibraryMembership(
        item_ids=np.array([r["item_id"] for r in rows], dtype=np.int64),
        library_ids=np.array([r["library_id"] for r in rows], dtype=np.int64),
        domain_codes=np.array([domain_code[str(r["domain"])] for r in rows], dtype=np.int16),
        domain_names=domain_names,
        genres=genres,
        added_at=added_at,
        titles=titles,
        genre_counts=np.array([len(genres[i]) for i in titles.tolist()], dtype=np.int64),
        genre_ids=np.array(
            [genre_code[g] for i in titles.tolist() for g in genres[i]], dtype=np.int64
        ),
        genre_names=genre_names,
    )
