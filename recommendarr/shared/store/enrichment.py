"""What enrich_item reads about a title, and where it writes TMDB's details."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from recommendarr.shared.db import Connection
from recommendarr.shared.domain.item_text import ItemFacts
from recommendarr.shared.domain.tmdb_facts import TmdbExtras
from recommendarr.shared.store.items import ITEM_COLUMNS, facts_from_row


@dataclass(frozen=True)
class EnrichmentState:
    item_id: int
    tmdb_id: int
    media_type: str
    fresh: bool
    facts: ItemFacts
    embedded_hash: str | None


def read_state(conn: Connection, item_id: int, ttl_days: int, model: str) -> EnrichmentState | None:
    """None when the item is gone. `fresh`: fetched from TMDB less than ttl_days ago."""
    row = conn.execute(
        f"SELECT {ITEM_COLUMNS}, "  # noqa: S608 - a constant column list
        "coalesce(fetched_at > now() - make_interval(days => %s), false) AS fresh, "
        "(SELECT e.content_hash FROM item_embeddings e "
        " WHERE e.item_id = items.id AND e.model = %s) AS embedded_hash "
        "FROM items WHERE id = %s",
        (ttl_days, model, item_id),
    ).fetchone()
    if row is None:
        return None
    return EnrichmentState(
        item_id=int(row["id"]),
        tmdb_id=int(row["tmdb_id"]),
        media_type=str(row["media_type"]),
        fresh=bool(row["fresh"]),
        facts=facts_from_row(row),
        embedded_hash=row["embedded_hash"],
    )


def record_details(conn: Connection, item_id: int, facts: ItemFacts, extras: TmdbExtras) -> bool:
    """TMDB's values win where it has one; what the webhook told us stays where it has none.

    False when the item is gone.
    """
    row = conn.execute(
        "UPDATE items SET title = %s, year = coalesce(%s, year), "
        "genres = coalesce(%s, genres), keywords = coalesce(%s, keywords), "
        'directors = coalesce(%s, directors), "cast" = coalesce(%s, "cast"), '
        "language = coalesce(%s, language), runtime = coalesce(%s, runtime), "
        "overview = coalesce(%s, overview), poster_path = coalesce(%s, poster_path), "
        "vote_average = coalesce(%s, vote_average), vote_count = coalesce(%s, vote_count), "
        "imdb_id = coalesce(%s, imdb_id), tvdb_id = coalesce(%s, tvdb_id), "
        "collection_id = coalesce(%s, collection_id), popularity = coalesce(%s, popularity), "
        "fetched_at = now() WHERE id = %s RETURNING id",
        (
            facts.title,
            facts.year,
            non_empty(facts.genres),
            non_empty(facts.keywords),
            non_empty(facts.directors),
            non_empty(facts.cast),
            facts.language,
            facts.runtime,
            facts.overview,
            extras.poster_path,
            extras.vote_average,
            extras.vote_count,
            extras.imdb_id,
            extras.tvdb_id,
            extras.collection_id,
            extras.popularity,
            item_id,
        ),
    ).fetchone()
    return row is not None


def non_empty(values: Sequence[str]) -> list[str] | None:
    """NULL for an empty list, so coalesce keeps the stored one."""
    return list(values) or None
