"""Taste profiles, and the facts and vectors they are built from."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import orjson
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

from recommendarr.shared.db import Connection, as_array, number_array
from recommendarr.shared.domain.taste import MoodCluster, TasteProfile, TitleFacts


def vectors_for(conn: Connection, item_ids: Iterable[int], model: str) -> dict[int, np.ndarray]:
    rows = conn.execute(
        "SELECT item_id, embedding FROM item_embeddings "
        "WHERE model = %s AND item_id = ANY(%s::bigint[])",
        (model, number_array(item_ids)),
        binary=True,  # ten times faster than parsing vectors from text
    ).fetchall()
    return {int(r["item_id"]): as_array(r["embedding"]) for r in rows}


def facts_for(conn: Connection, item_ids: Iterable[int]) -> dict[int, TitleFacts]:
    # Tuple rows: called on every ranking for hundreds of titles, where building a dict per
    # row costs more than the query.
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(
            'SELECT id, tmdb_id, media_type, title, genres, directors, "cast" FROM items '
            "WHERE id = ANY(%s::bigint[])",
            (number_array(item_ids),),
            binary=True,  # its text arrays load a fifth faster in binary
        ).fetchall()
    return {int(r[0]): facts_from_tuple(r) for r in rows}


def facts_from_tuple(row: Sequence[Any]) -> TitleFacts:
    """The facts of a row of (id, tmdb_id, media_type, title, genres, directors, cast)."""
    return TitleFacts(
        title=str(row[3]),
        genres=tuple(row[4] or ()),
        directors=tuple(row[5] or ()),
        cast=tuple(row[6] or ()),
        tmdb_id=row[1],
        media_type=row[2],
    )


def title_facts(row: dict[str, Any]) -> TitleFacts:
    return TitleFacts(
        title=str(row["title"]),
        genres=tuple(row["genres"] or ()),
        directors=tuple(row["directors"] or ()),
        cast=tuple(row["cast"] or ()),
        tmdb_id=row.get("tmdb_id"),
        media_type=row.get("media_type"),
    )


def lock_user(conn: Connection, user_id: int) -> None:
    """Serialize per-user recomputes for the length of the transaction."""
    conn.execute("SELECT pg_advisory_xact_lock(1, %s::int)", (user_id,))


def stored_hashes(conn: Connection, user_id: int) -> dict[str, str]:
    rows = conn.execute(
        "SELECT domain, input_hash FROM taste_profiles WHERE user_id = %s", (user_id,)
    ).fetchall()
    return {str(r["domain"]): str(r["input_hash"]) for r in rows}


def save(
    conn: Connection, user_id: int, profile: TasteProfile, model: str, input_hash: str
) -> None:
    conn.execute(
        "INSERT INTO taste_profiles (user_id, domain, model, centroid, anti_profile, "
        "genre_weights, person_weights, item_weights, input_hash, n_titles, clusters) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (user_id, domain) DO UPDATE SET model = EXCLUDED.model, "
        "centroid = EXCLUDED.centroid, anti_profile = EXCLUDED.anti_profile, "
        "genre_weights = EXCLUDED.genre_weights, person_weights = EXCLUDED.person_weights, "
        "item_weights = EXCLUDED.item_weights, input_hash = EXCLUDED.input_hash, "
        "n_titles = EXCLUDED.n_titles, clusters = EXCLUDED.clusters, "
        "version = taste_profiles.version + 1, built_at = now()",
        (
            user_id,
            profile.domain,
            model,
            profile.centroid,
            profile.anti_profile,
            Jsonb(profile.genre_weights),
            Jsonb(profile.person_weights),
            Jsonb(
                {
                    "liked": {str(k): v for k, v in profile.item_weights.items()},
                    "disliked": {str(k): v for k, v in profile.abandoned.items()},
                }
            ),
            input_hash,
            profile.n_titles,
            Jsonb([cluster_json(c) for c in profile.clusters]),
        ),
    )


def cluster_json(cluster: MoodCluster) -> dict[str, Any]:
    return {
        "weight": cluster.weight,
        "item_ids": list(cluster.item_ids),
        "centroid": [round(float(x), 6) for x in cluster.centroid],
    }


def cluster_from_json(data: dict[str, Any]) -> MoodCluster:
    return MoodCluster(
        centroid=np.asarray(data["centroid"], dtype=np.float32),
        weight=float(data["weight"]),
        item_ids=tuple(int(i) for i in data["item_ids"]),
    )


def delete_other_domains(conn: Connection, user_id: int, keep: Iterable[str]) -> None:
    conn.execute(
        "DELETE FROM taste_profiles WHERE user_id = %s AND NOT (domain = ANY(%s))",
        (user_id, list(keep)),
    )


JSON_COLUMNS = ("genre_weights", "person_weights", "item_weights", "clusters")


def load(conn: Connection, user_id: int) -> list[TasteProfile]:
    # The JSON columns come as text and are parsed here with orjson: a long history's person
    # weights and mood centroids are thousands of numbers, and the standard library's parser
    # (psycopg's default) took longer than the query. Only this query: profiles hold nothing
    # but our own numbers and names, which orjson reads exactly as json does.
    rows = conn.execute(
        "SELECT domain, centroid, anti_profile, genre_weights::text, person_weights::text, "
        "item_weights::text, clusters::text "
        "FROM taste_profiles WHERE user_id = %s ORDER BY domain",
        (user_id,),
    ).fetchall()
    return [profile_from_row(parsed_json(r)) for r in rows]


def parsed_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: orjson.loads(v) if k in JSON_COLUMNS and v is not None else v for k, v in row.items()
    }


def profile_from_row(row: dict[str, Any]) -> TasteProfile:
    weights = row["item_weights"] or {}
    return TasteProfile(
        domain=str(row["domain"]),
        centroid=None if row["centroid"] is None else as_array(row["centroid"]),
        anti_profile=None if row["anti_profile"] is None else as_array(row["anti_profile"]),
        item_weights={int(k): float(v) for k, v in weights.get("liked", {}).items()},
        abandoned={int(k): float(v) for k, v in weights.get("disliked", {}).items()},
        genre_weights=dict(row["genre_weights"] or {}),
        person_weights=dict(row["person_weights"] or {}),
        clusters=[cluster_from_json(c) for c in row.get("clusters") or []],
    )
