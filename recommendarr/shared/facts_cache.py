"""Title facts kept in worker memory, checked against the database on every use.

A ranking reads the facts (title, genres, people, TMDB votes) of some seven hundred candidates
and liked titles; parsing their text arrays was most of those reads. A title's facts change
only when its row in items is updated (enrichment, a sync filling in ids): title_row_cache says
how an entry is checked.
"""

from __future__ import annotations

from collections.abc import Iterable

from recommendarr.shared.db import Connection
from recommendarr.shared.domain.taste import TitleFacts
from recommendarr.shared.store import title_facts as facts_store
from recommendarr.shared.store.change_logs import Stamp
from recommendarr.shared.store.title_facts import TitleRecord
from recommendarr.shared.title_row_cache import TitleRowCache

DEFAULT_CAPACITY = 20_000


class FactsCache:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._entries = TitleRowCache(capacity, facts_store.records_with_versions)

    def facts(
        self, conn: Connection, item_ids: Iterable[int], stamp: Stamp | None = None
    ) -> dict[int, TitleFacts]:
        return {item_id: r.facts for item_id, r in self.records(conn, item_ids, stamp).items()}

    def records(
        self, conn: Connection, item_ids: Iterable[int], stamp: Stamp | None = None
    ) -> dict[int, TitleRecord]:
        """The facts and votes of those titles that exist. ``stamp``: the title_changes stamp
        read at the start of the caller's work (read here when not given)."""
        return self._entries.read(conn, item_ids, stamp)
