"""Process-wide resources, built once at worker boot or app start-up, never at import."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import httpx
from psycopg_pool import ConnectionPool

from recommendarr.settings import Settings
from recommendarr.shared import db
from recommendarr.shared.embeddings import EmbeddingProvider, build_embedding_provider
from recommendarr.shared.facts_cache import FactsCache
from recommendarr.shared.integrations import Integrations, build_integrations
from recommendarr.shared.library_cache import LibraryCache
from recommendarr.shared.relation_cache import RelationCache
from recommendarr.shared.taste_model_cache import TasteModelCache
from recommendarr.shared.vector_cache import VectorCache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resources:
    settings: Settings
    database_url: str
    pool: ConnectionPool[db.Connection]
    http: httpx.Client
    embedder: EmbeddingProvider
    integrations: Integrations
    taste_models: TasteModelCache = field(default_factory=TasteModelCache)
    libraries: LibraryCache = field(default_factory=LibraryCache)
    vectors: VectorCache = field(default_factory=VectorCache)
    facts: FactsCache = field(default_factory=FactsCache)
    relations: RelationCache = field(default_factory=RelationCache)

    def close(self) -> None:
        self.http.close()
        self.pool.close()


_installed: list[Resources] = []


def build(settings: Settings) -> Resources:
    url = db.resolve_database_url(settings)
    db.apply_schema(url, settings.embedding_dim)
    pool = db.open_pool(url, settings.db_pool_size)
    http = httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0))
    embedder = build_embedding_provider(settings, http)
    integrations = build_integrations(settings, http, pool)
    log.info(
        "database %s (%s); embeddings %s",
        db.describe_url(url),
        "embedded PostgreSQL" if settings.embedded_database else "DATABASE_URL",
        embedder.model_name,
    )
    return Resources(
        settings,
        url,
        pool,
        http,
        embedder,
        integrations,
        vectors=VectorCache(settings.vector_cache_size),
        facts=FactsCache(settings.vector_cache_size),
        relations=RelationCache(settings.vector_cache_size),
    )


def install(resources: Resources) -> None:
    _installed.clear()
    _installed.append(resources)


def uninstall() -> None:
    _installed.clear()


def current() -> Resources:
    if not _installed:
        raise RuntimeError("resources are built at worker boot or app start-up; none are installed")
    return _installed[0]
