"""Title facts kept in worker memory, checked against the database on every use.

A ranking reads the facts (title, genres, people, TMDB votes) of some seven hundred candidates
and liked titles; parsing their text arrays was most of those reads. A title's facts change
only when its row in items is updated (enrichment, a sync filling in ids), and every update
gives the row a new xmin, so a cached entry is reused while the row's xmin still matches.
(xmin is 32 bits and wraps after four billion transactions: an entry would have to outlive
that and meet its old value on its own row again to be served stale.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from recommendarr.shared.db import Connection
from recommendarr.shared.domain.taste import TitleFacts
from recommendarr.shared.store import title_facts as facts_store
from recommendarr.shared.store.title_facts import TitleRecord
from recommendarr.shared.versioned_cache import VersionedCache

DEFAULT_CAPACITY = 20_000


class FactsCache:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._entries: VersionedCache[int, int, TitleRecord] = VersionedCache(capacity)

    def facts(self, conn: Connection, item_ids: Iterable[int]) -> dict[int, TitleFacts]:
        return {item_id: r.facts for item_id, r in self.records(conn, item_ids).items()}

    def records(self, conn: Connection, item_ids: Iterable[int]) -> dict[int, TitleRecord]:
        """The facts and votes of those titles that exist."""
        ids = list(item_ids)
        if not ids:
            return {}
        return self.with_versions(conn, facts_store.versions(conn, ids))

    def with_versions(
        self, conn: Connection, versions: Mapping[int, int]
    ) -> dict[int, TitleRecord]:
        """The records of titles whose current xmin the caller has already read."""
        found, missing = self._entries.current(versions)
        if missing:
            fetched = facts_store.records_with_versions(conn, missing)
            found.update({item_id: record for item_id, (_, record) in fetched.items()})
            self._entries.remember(fetched)
        return found
