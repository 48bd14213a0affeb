from __future__ import annotations

from recommendarr.functions.embed_item import embed_item
from recommendarr.shared import db
from recommendarr.shared.resources import Resources
from tests.conftest import queued, table_counts
from tests.helpers import seed_library


def embedding_row(conn: db.Connection, item_id: int) -> dict[str, object]:
    row = conn.execute(
        "SELECT model, content_hash, embedded_at FROM item_embeddings WHERE item_id = %s",
        (item_id,),
    ).fetchone()
    assert row is not None
    return row


def test_embeds_with_the_model_name_and_hash(conn: db.Connection, res: Resources) -> None:
    ids = seed_library(conn, tmdb_ids=[27205])
    embed_item(ids[27205])
    row = embedding_row(conn, ids[27205])
    assert row["model"] == res.embedder.model_name
    dims = conn.execute("SELECT vector_dims(embedding) AS d FROM item_embeddings").fetchone()
    assert dims == {"d": res.settings.embedding_dim}


def test_second_call_changes_nothing(conn: db.Connection) -> None:
    ids = seed_library(conn, tmdb_ids=[27205])
    embed_item(ids[27205])
    before, first = table_counts(conn), embedding_row(conn, ids[27205])
    embed_item(ids[27205])
    assert table_counts(conn) == before
    assert embedding_row(conn, ids[27205]) == first


def test_changed_facts_re_embed(conn: db.Connection) -> None:
    ids = seed_library(conn, tmdb_ids=[27205])
    embed_item(ids[27205])
    first = embedding_row(conn, ids[27205])
    conn.execute("UPDATE items SET keywords = '{dream,heist,limbo}' WHERE id = %s", (ids[27205],))
    conn.commit()
    embed_item(ids[27205])
    assert embedding_row(conn, ids[27205])["content_hash"] != first["content_hash"]


def test_missing_item_is_a_no_op(conn: db.Connection) -> None:
    embed_item(424242)
    assert table_counts(conn)["item_embeddings"] == 0
    assert queued()["profiles"] == 0
