"""TMDB's related titles kept in worker memory, checked against the database on every use.

Grab mode follows the relations of every title a user liked: some forty each, tens of thousands
of rows for a long history, whose reading was most of a ranking's time. Relations change only
when enrich_item records a title's lists, and each such statement stamps the title's row, which
notes a title change (schema.sql): an entry is served as it is while no title has changed since
it was last checked, and after that while its title's row version (xmin) still matches
(store.relations). A title without relations is kept as an empty entry.
"""

from __future__ import annotations

from collections.abc import Iterable

from recommendarr.shared.db import Connection
from recommendarr.shared.domain.grab import TitleRelations
from recommendarr.shared.store import relations as relation_store
from recommendarr.shared.store.change_logs import Stamp
from recommendarr.shared.title_row_cache import TitleRowCache

DEFAULT_CAPACITY = 20_000


class RelationCache:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._entries = TitleRowCache(capacity, relation_store.relations_with_versions)

    def relations(
        self, conn: Connection, item_ids: Iterable[int], stamp: Stamp | None = None
    ) -> dict[int, TitleRelations]:
        """The relations of those titles that exist (empty for a title without any)."""
        return self._entries.read(conn, item_ids, stamp)
