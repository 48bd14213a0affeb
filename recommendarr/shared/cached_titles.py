"""One ranking's reads of title facts, vectors and related titles through the worker's caches,
all checked against the title_changes stamp read as the ranking began: one query tells whether
any of the hundreds of cached titles it needs may have changed (a change committed after that
read is seen by the next ranking)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from recommendarr.shared.db import Connection
from recommendarr.shared.domain.grab import TitleRelations
from recommendarr.shared.domain.taste import TitleFacts
from recommendarr.shared.facts_cache import FactsCache
from recommendarr.shared.relation_cache import RelationCache
from recommendarr.shared.store import change_logs
from recommendarr.shared.store.change_logs import Stamp
from recommendarr.shared.store.title_facts import TitleRecord
from recommendarr.shared.vector_cache import VectorCache


@dataclass(frozen=True)
class CachedTitles:
    vector_cache: VectorCache
    facts_cache: FactsCache
    relation_cache: RelationCache
    model: str
    stamp: Stamp

    @classmethod
    def begin(
        cls,
        conn: Connection,
        vectors: VectorCache,
        facts: FactsCache,
        relations: RelationCache,
        model: str,
    ) -> CachedTitles:
        return cls(vectors, facts, relations, model, change_logs.stamp(conn, "title_changes"))

    def vectors(self, conn: Connection, item_ids: Iterable[int]) -> dict[int, np.ndarray]:
        return self.vector_cache.vectors(conn, item_ids, self.model, self.stamp)

    def facts(self, conn: Connection, item_ids: Iterable[int]) -> dict[int, TitleFacts]:
        return self.facts_cache.facts(conn, item_ids, self.stamp)

    def records(self, conn: Connection, item_ids: Iterable[int]) -> dict[int, TitleRecord]:
        return self.facts_cache.records(conn, item_ids, self.stamp)

    def relations(self, conn: Connection, item_ids: Iterable[int]) -> dict[int, TitleRelations]:
        return self.relation_cache.relations(conn, item_ids, self.stamp)
