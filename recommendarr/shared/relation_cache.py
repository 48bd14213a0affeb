"""TMDB's related titles kept in worker memory, checked against the database on every use.

Grab mode follows the relations of every title a user liked: some forty each, tens of thousands
of rows for a long history, whose reading was most of a ranking's time. Relations change only
when enrich_item records a title's lists, and every write notes a title change (schema.sql): an
entry is served as it is while no title has changed since it was last checked, and after that
while its title's relation count and newest write still match (store.relations). Titles with
no relations are remembered as such.
"""

from __future__ import annotations

from collections.abc import Iterable

from recommendarr.shared.db import Connection
from recommendarr.shared.domain.grab import TitleRelations
from recommendarr.shared.store import change_logs
from recommendarr.shared.store import relations as relation_store
from recommendarr.shared.store.change_logs import Stamp
from recommendarr.shared.store.relations import RelationsVersion
from recommendarr.shared.versioned_cache import VersionedCache

DEFAULT_CAPACITY = 20_000


class RelationCache:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._entries: VersionedCache[int, RelationsVersion, TitleRelations] = VersionedCache(
            capacity
        )

    def relations(
        self, conn: Connection, item_ids: Iterable[int], stamp: Stamp | None = None
    ) -> dict[int, TitleRelations]:
        """The relations of those titles that have some. ``stamp``: the title_changes stamp
        read at the start of the caller's work (read here when not given)."""
        if stamp is None:
            stamp = change_logs.stamp(conn, "title_changes")
        return self._entries.read(
            item_ids,
            stamp,
            lambda ids: relation_store.versions(conn, ids),
            lambda ids: relation_store.relations_with_versions(conn, ids),
        )
