from __future__ import annotations

import psycopg
import pytest

from recommendarr.shared import db
from recommendarr.shared.resources import Resources


def test_schema_applies_twice_without_change(res: Resources) -> None:
    def snapshot() -> list[tuple[str, ...]]:
        with psycopg.connect(res.database_url) as conn:
            return conn.execute(
                "SELECT tablename, indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = 'public' ORDER BY 1, 2"
            ).fetchall()

    before = snapshot()
    assert db.apply_schema(res.database_url, res.settings.embedding_dim, force=True)
    assert db.apply_schema(res.database_url, res.settings.embedding_dim, force=True)
    assert snapshot() == before
    # Without force, an unchanged schema is not re-run at all (no DDL locks on a live database).
    assert not db.apply_schema(res.database_url, res.settings.embedding_dim)
    assert any("hnsw" in row[2] and "halfvec_cosine_ops" in row[2] for row in before)


def test_a_different_embedding_dimension_is_refused(res: Resources) -> None:
    with pytest.raises(db.SchemaMismatchError, match="768-dimensional"):
        db.apply_schema(res.database_url, 384)
    with pytest.raises(db.SchemaMismatchError, match="768-dimensional"):
        db.apply_schema(res.database_url, 384, force=True)


def test_vector_extension_is_installed(conn: db.Connection) -> None:
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    assert row is not None


def test_event_keys_are_unique(conn: db.Connection) -> None:
    indexes = conn.execute(
        "SELECT indexdef FROM pg_indexes "
        "WHERE tablename = 'watch_events' AND indexdef LIKE '%UNIQUE%'"
    ).fetchall()
    assert any("event_key" in r["indexdef"] for r in indexes)
