"""What enrich_item reads about a title, and where it writes TMDB's details and lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from recommendarr.shared.db import Connection
from recommendarr.shared.domain.item_text import ItemFacts
from recommendarr.shared.domain.tmdb_facts import TmdbExtras
from recommendarr.shared.domain.tmdb_lists import ListedTitle, Recorded
from recommendarr.shared.store.items import ITEM_COLUMNS, facts_from_row


@dataclass(frozen=True)
class EnrichmentState:
    item_id: int
    tmdb_id: int
    media_type: str
    fresh: bool
    facts: ItemFacts
    embedded_hash: str | None
    # In some library: only such titles have their TMDB relations recorded.
    in_library: bool = False
    has_relations: bool = False


def read_state(conn: Connection, item_id: int, ttl_days: int, model: str) -> EnrichmentState | None:
    """None when the item is gone. `fresh`: fetched from TMDB less than ttl_days ago."""
    row = conn.execute(
        f"SELECT {ITEM_COLUMNS}, "  # noqa: S608 - a constant column list
        "coalesce(fetched_at > now() - make_interval(days => %s), false) AS fresh, "
        "(SELECT e.content_hash FROM item_embeddings e "
        " WHERE e.item_id = items.id AND e.model = %s) AS embedded_hash, "
        "EXISTS (SELECT 1 FROM library_items li WHERE li.item_id = items.id) AS in_library, "
        "EXISTS (SELECT 1 FROM item_relations r WHERE r.item_id = items.id) AS has_relations "
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
        in_library=bool(row["in_library"]),
        has_relations=bool(row["has_relations"]),
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


def upsert_listed(conn: Connection, listed: ListedTitle) -> tuple[int, Recorded]:
    """The title's id, and what recording the entry found or did (tmdb_lists.Recorded).

    An existing title only gains what it lacks, and only until enrich_item has fetched its
    details: a list entry never overwrites what a webhook, the details or an earlier list said.
    """
    created = conn.execute(
        "INSERT INTO items (tmdb_id, media_type, title, year, genres, language, overview, "
        "poster_path, vote_average, vote_count, popularity) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (tmdb_id, media_type) DO NOTHING RETURNING id",
        (
            listed.tmdb_id,
            listed.media_type,
            listed.title,
            listed.year,
            list(listed.genres),
            listed.language,
            listed.overview,
            listed.poster_path,
            listed.vote_average,
            listed.vote_count,
            listed.popularity,
        ),
    ).fetchone()
    if created is not None:
        return int(created["id"]), "created"
    existing = conn.execute(
        "UPDATE items i SET year = coalesce(i.year, l.year), "
        "genres = CASE WHEN i.genres = '{}' THEN l.genres ELSE i.genres END, "
        "language = coalesce(i.language, l.language), "
        "overview = coalesce(i.overview, l.overview), "
        "poster_path = coalesce(i.poster_path, l.poster_path), "
        "vote_average = coalesce(i.vote_average, l.vote_average), "
        "vote_count = coalesce(i.vote_count, l.vote_count), "
        "popularity = coalesce(i.popularity, l.popularity) "
        "FROM (SELECT %(year)s::integer AS year, %(genres)s::text[] AS genres, "
        "  %(language)s::text AS language, %(overview)s::text AS overview, "
        "  %(poster_path)s::text AS poster_path, %(vote_average)s::real AS vote_average, "
        "  %(vote_count)s::integer AS vote_count, %(popularity)s::real AS popularity) l "
        "WHERE i.tmdb_id = %(tmdb_id)s AND i.media_type = %(media_type)s "
        "AND i.fetched_at IS NULL "
        "AND ((i.year IS NULL AND l.year IS NOT NULL) "
        "  OR (i.genres = '{}' AND l.genres <> '{}') "
        "  OR (i.language IS NULL AND l.language IS NOT NULL) "
        "  OR (i.overview IS NULL AND l.overview IS NOT NULL) "
        "  OR (i.poster_path IS NULL AND l.poster_path IS NOT NULL) "
        "  OR (i.vote_average IS NULL AND l.vote_average IS NOT NULL) "
        "  OR (i.vote_count IS NULL AND l.vote_count IS NOT NULL) "
        "  OR (i.popularity IS NULL AND l.popularity IS NOT NULL)) "
        "RETURNING i.id",
        {
            "tmdb_id": listed.tmdb_id,
            "media_type": listed.media_type,
            "year": listed.year,
            "genres": list(listed.genres),
            "language": listed.language,
            "overview": listed.overview,
            "poster_path": listed.poster_path,
            "vote_average": listed.vote_average,
            "vote_count": listed.vote_count,
            "popularity": listed.popularity,
        },
    ).fetchone()
    if existing is not None:
        return int(existing["id"]), "filled"
    known = conn.execute(
        "SELECT id, (fetched_at IS NOT NULL OR tmdb_missing_at IS NOT NULL) AS asked FROM items "
        "WHERE tmdb_id = %s AND media_type = %s",
        (listed.tmdb_id, listed.media_type),
    ).fetchone()
    assert known is not None
    return int(known["id"]), "asked" if known["asked"] else "unasked"


def record_missing(conn: Connection, item_id: int) -> None:
    """TMDB answered that it has no details for the title: no list naming it asks again."""
    conn.execute("UPDATE items SET tmdb_missing_at = now() WHERE id = %s", (item_id,))


def record_relations(
    conn: Connection, item_id: int, kind: str, related: Sequence[tuple[int, int]]
) -> int:
    """Make the item's `kind` relations exactly `related` ((related item id, position) pairs;
    a title listed twice keeps its first place).

    Unchanged pairs are not written, so recording the same list again changes nothing; titles
    TMDB no longer lists are dropped. One statement each way: every statement on item_relations
    stamps the title's row (schema.sql). The number of rows written or removed.
    """
    places: dict[int, int] = {}
    for other, position in related:
        if other != item_id:
            places.setdefault(other, position)
    ids = sorted(places)
    written = conn.execute(
        "INSERT INTO item_relations (item_id, related_item_id, kind, position) "
        "SELECT %s, r.id, %s, r.position "
        "FROM unnest(%s::bigint[], %s::integer[]) AS r(id, position) "
        "ON CONFLICT (item_id, related_item_id, kind) DO UPDATE "
        "SET position = EXCLUDED.position, recorded_at = now() "
        "WHERE item_relations.position <> EXCLUDED.position",
        (item_id, kind, ids, [places[i] for i in ids]),
    ).rowcount
    removed = conn.execute(
        "DELETE FROM item_relations WHERE item_id = %s AND kind = %s "
        "AND NOT (related_item_id = ANY(%s::bigint[]))",
        (item_id, kind, ids),
    ).rowcount
    return written + removed


def lock_item(conn: Connection, item_id: int) -> bool:
    """Whether the item is still there; its row is then locked as an update of it would lock
    it (recording its relations stamps it), until the transaction ends."""
    row = conn.execute(
        "SELECT id FROM items WHERE id = %s FOR NO KEY UPDATE", (item_id,)
    ).fetchone()
    return row is not None
