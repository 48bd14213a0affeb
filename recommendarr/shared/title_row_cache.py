"""Per-title values a worker keeps in memory, read from a title's items row or from rows that
stamp it, and checked by that row's version (xmin): every UPDATE gives a row a new xmin, and
every write notes a title change (schema.sql), so an entry is served as it is while the
title_changes stamp has not moved since it was last checked, and after that while its title's
xmin still matches. (xmin is 32 bits and wraps after four billion transactions: an entry would
have to outlive that and meet its old value on its own row again to be served stale.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Generic, TypeVar

from recommendarr.shared.db import Connection
from recommendarr.shared.store import change_logs, title_facts
from recommendarr.shared.store.change_logs import Stamp
from recommendarr.shared.versioned_cache import VersionedCache

Value = TypeVar("Value")
# Reads the values of the titles asked for, each with its row's xmin.
Fetch = Callable[[Connection, Sequence[int]], Mapping[int, tuple[int, Value]]]


class TitleRowCache(Generic[Value]):
    def __init__(self, capacity: int, fetch: Fetch[Value]) -> None:
        self._entries: VersionedCache[int, int, Value] = VersionedCache(capacity)
        self._fetch = fetch

    def read(
        self, conn: Connection, item_ids: Iterable[int], stamp: Stamp | None = None
    ) -> dict[int, Value]:
        """The values of those titles that exist. ``stamp``: the title_changes stamp read at
        the start of the caller's work (read here when not given)."""
        if stamp is None:
            stamp = change_logs.stamp(conn, "title_changes")
        return self._entries.read(
            item_ids,
            stamp,
            lambda ids: title_facts.versions(conn, ids),
            lambda ids: self._fetch(conn, ids),
        )
