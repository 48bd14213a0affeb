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


def test_lists_stored_as_jsonb_by_an_earlier_schema_become_json(res: Resources) -> None:
    with psycopg.connect(res.database_url) as conn:
        conn.execute("ALTER TABLE recommendations ALTER COLUMN signals TYPE jsonb")
        conn.execute("ALTER TABLE recommendations ALTER COLUMN influenced_by TYPE jsonb")
        conn.execute(
            "INSERT INTO recommendations (user_id, mode, rank, item_id, score, confidence, "
            "signals, influenced_by, explanation) VALUES (-7, 'tonight', 1, -7, 0.5, 'low', "
            "'{\"content_similarity\": 0.25}', '[{\"title\": \"Heat\"}]', 'x')"
        )
    try:
        assert db.apply_schema(res.database_url, res.settings.embedding_dim, force=True)
        with psycopg.connect(res.database_url) as conn:
            kinds = conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'recommendations' AND data_type LIKE 'json%' ORDER BY 1"
            ).fetchall()
            kept = conn.execute(
                "SELECT signals->>'content_similarity', influenced_by->0->>'title' "
                "FROM recommendations WHERE user_id = -7"
            ).fetchone()
        assert kinds == [("influenced_by", "json"), ("signals", "json")]
        assert kept == ("0.25", "Heat")
    finally:  # whatever happened, later tests get the column as the schema has it
        with psycopg.connect(res.database_url) as conn:
            conn.execute("ALTER TABLE recommendations ALTER COLUMN signals TYPE json")
            conn.execute("ALTER TABLE recommendations ALTER COLUMN influenced_by TYPE json")
