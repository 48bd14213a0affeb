"""Title facts kept in worker memory, checked against the database on every use.

A ranking reads the facts (title, genres, people, TMDB votes) of some seven hundred candidates
and liked titles; parsing their text arrays was most of those reads. A title's facts change
only when its row in items is updated (enrichment, a sync filling in ids), and every update
gives the row a new xmin and notes a title change (schema.sql): an entry is served as it is
while no title has changed since it was last checked, and after that while its row's xmin
still matches.
(xmin is 32 bits and wraps after four billion transactions: an entry would have to outlive
that and meet its old value on its own row again to be served stale.)
"""

from __future__ import annotations

from collections.abc import Iterable

from recommendarr.shared.db import Connection
from recommendarr.shared.domain.taste import TitleFacts
from recommendarr.shared.store import change_logs
from recommendarr.shared.store import title_facts as facts_store
from recommendarr.shared.store.change_logs import Stamp
from recommendarr.shared.store.title_facts import TitleRecord
from recommendarr.shared.versioned_cache import VersionedCache

DEFAULT_CAPACITY = 20_000


class FactsCache:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._entries: VersionedCache[int, int, TitleRecord] = VersionedCache(capacity)

    def facts(
        self, conn: Connection, item_ids: Iterable[int], stamp: Stamp | None = None
    ) -> dict[int, TitleFacts]:
        return {item_id: r.facts for item_id, r in self.records(conn, item_ids, stamp).items()}

    def records(
        self, conn: Connection, item_ids: Iterable[int], stamp: Stamp | None = None
    ) -> dict[int, TitleRecord]:
        """The facts and votes of those titles that exist. ``stamp``: the title_changes stamp
        read at the start of the caller's work (read here when not given)."""
        if stamp is None:
            stamp = change_logs.stamp(conn, "title_changes")
        return self._entries.read(
            item_ids,
            stamp,
            lambda ids: facts_store.versions(conn, ids),
            lambda ids: facts_store.records_with_versions(conn, ids),
        )
