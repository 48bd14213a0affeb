"""What the Radarr/Sonarr instances hold, when titles became available, and grab requests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from recommendarr.shared.db import Connection

# A row only changes when a fact changed, so a repeated webhook or sync writes nothing.
UPSERT_ARR_ITEM = (
    "INSERT INTO arr_items (instance, arr_id, media_type, tmdb_id, tvdb_id, title, monitored, "
    "has_file) VALUES (%(instance)s, %(arr_id)s, %(media_type)s, %(tmdb_id)s, %(tvdb_id)s, "
    "%(title)s, %(monitored)s, %(has_file)s) "
    "ON CONFLICT (instance, arr_id) DO UPDATE SET media_type = EXCLUDED.media_type, "
    "tmdb_id = EXCLUDED.tmdb_id, tvdb_id = EXCLUDED.tvdb_id, title = EXCLUDED.title, "
    "monitored = EXCLUDED.monitored, has_file = EXCLUDED.has_file, updated_at = now() "
    "WHERE (arr_items.media_type, arr_items.tmdb_id, arr_items.tvdb_id, arr_items.title, "
    "arr_items.monitored, arr_items.has_file) IS DISTINCT FROM (EXCLUDED.media_type, "
    "EXCLUDED.tmdb_id, EXCLUDED.tvdb_id, EXCLUDED.title, EXCLUDED.monitored, EXCLUDED.has_file)"
)


def replace_instance_items(
    conn: Connection, instance: str, media_type: str, rows: Sequence[dict[str, Any]]
) -> int:
    """Make the instance's rows exactly `rows` (a full library read); the rows deleted."""
    with conn.cursor() as cur:
        cur.executemany(UPSERT_ARR_ITEM, [{**r, "instance": instance} for r in rows])
    deleted = conn.execute(
        "DELETE FROM arr_items WHERE instance = %s AND media_type = %s AND NOT (arr_id = ANY(%s))",
        (instance, media_type, [int(r["arr_id"]) for r in rows]),
    )
    return deleted.rowcount


def delete_other_instances(conn: Connection, media_type: str, keep: Sequence[str]) -> int:
    """Rows of instances no longer configured (or a webhook's unmatched instance name)."""
    deleted = conn.execute(
        "DELETE FROM arr_items WHERE media_type = %s AND NOT (instance = ANY(%s))",
        (media_type, list(keep)),
    )
    return deleted.rowcount


def note_from_webhook(
    conn: Connection,
    instance: str,
    arr_id: int,
    media_type: str,
    tmdb_id: int | None,
    tvdb_id: int | None,
    title: str,
    has_file: bool,
) -> None:
    """A webhook says the instance holds (and monitors) the title; a file, once seen, stays
    until the next sync says otherwise."""
    conn.execute(
        "INSERT INTO arr_items (instance, arr_id, media_type, tmdb_id, tvdb_id, title, monitored, "
        "has_file) VALUES (%s, %s, %s, %s, %s, %s, true, %s) "
        "ON CONFLICT (instance, arr_id) DO UPDATE SET "
        "tmdb_id = coalesce(EXCLUDED.tmdb_id, arr_items.tmdb_id), "
        "tvdb_id = coalesce(EXCLUDED.tvdb_id, arr_items.tvdb_id), title = EXCLUDED.title, "
        "monitored = true, has_file = arr_items.has_file OR EXCLUDED.has_file, updated_at = now() "
        "WHERE NOT arr_items.monitored OR (EXCLUDED.has_file AND NOT arr_items.has_file) "
        "OR arr_items.title <> EXCLUDED.title "
        "OR (EXCLUDED.tmdb_id IS NOT NULL AND arr_items.tmdb_id IS DISTINCT FROM EXCLUDED.tmdb_id) "
        "OR (EXCLUDED.tvdb_id IS NOT NULL AND arr_items.tvdb_id IS DISTINCT FROM EXCLUDED.tvdb_id)",
        (instance, arr_id, media_type, tmdb_id, tvdb_id, title, has_file),
    )


def arr_has(conn: Connection, media_type: str, tmdb_id: int) -> bool:
    """Whether any instance already holds the title (monitored, downloaded, or both)."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM arr_items WHERE media_type = %s AND tmdb_id = %s) AS has",
        (media_type, tmdb_id),
    ).fetchone()
    return bool(row and row["has"])


def record_availability(
    conn: Connection, item_id: int, source: str, available_at: datetime, inbox_id: int | None
) -> bool:
    """The first time the title became playable through `source`; True when this call said so."""
    row = conn.execute(
        "INSERT INTO item_availability (item_id, source, available_at, inbox_id) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (item_id, source) DO NOTHING RETURNING item_id",
        (item_id, source, available_at, inbox_id),
    ).fetchone()
    return row is not None


def fill_external_ids(
    conn: Connection, item_id: int, imdb_id: str | None, tvdb_id: int | None
) -> None:
    """Ids only fill gaps: TMDB enrichment stays the authority once it has written them."""
    conn.execute(
        "UPDATE items SET imdb_id = coalesce(imdb_id, %(imdb)s), "
        "tvdb_id = coalesce(tvdb_id, %(tvdb)s) WHERE id = %(id)s AND ("
        "(imdb_id IS NULL AND %(imdb)s::text IS NOT NULL) OR "
        "(tvdb_id IS NULL AND %(tvdb)s::integer IS NOT NULL))",
        {"id": item_id, "imdb": imdb_id, "tvdb": tvdb_id},
    )


# --- grab requests ---------------------------------------------------------------------------

GRAB_COLUMNS = (
    "g.id, g.user_id, g.item_id, g.via, g.state, g.external_id, g.error, g.created_at, "
    "i.tmdb_id, i.media_type, i.title, i.year, i.tvdb_id, i.genres, i.language"
)
TARGET_COLUMNS = "i.id, i.tmdb_id, i.media_type, i.title, i.year, i.tvdb_id, i.genres, i.language"
LIBRARY_DOMAIN = (
    "(SELECT l.domain FROM library_items li JOIN libraries l ON l.id = li.library_id "
    " WHERE li.item_id = i.id ORDER BY (l.domain = 'anime') DESC, l.id LIMIT 1) AS library_domain"
)


def grab_target(conn: Connection, tmdb_id: int, media_type: str) -> dict[str, Any] | None:
    """The title a grab is for, with what routing needs to know about it."""
    query = (
        f"SELECT {TARGET_COLUMNS}, {LIBRARY_DOMAIN} FROM items i "  # noqa: S608 - constants
        "WHERE i.tmdb_id = %s AND i.media_type = %s"
    )
    return conn.execute(query, (tmdb_id, media_type)).fetchone()


def open_grab(conn: Connection, user_id: int, item_id: int, via: str) -> dict[str, Any]:
    """The title's one grab request: created, or a failed one re-opened for another try."""
    row = conn.execute(
        "INSERT INTO grab_requests (user_id, item_id, via) VALUES (%s, %s, %s) "
        "ON CONFLICT (item_id) DO UPDATE SET via = EXCLUDED.via, state = 'pending', error = NULL "
        "WHERE grab_requests.state = 'failed' RETURNING id, state",
        (user_id, item_id, via),
    ).fetchone()
    if row is not None:
        return dict(row)
    existing = conn.execute(
        "SELECT id, state FROM grab_requests WHERE item_id = %s", (item_id,)
    ).fetchone()
    assert existing is not None
    return dict(existing)


def get_grab(conn: Connection, grab_id: int) -> dict[str, Any] | None:
    query = (
        f"SELECT {GRAB_COLUMNS}, {LIBRARY_DOMAIN} FROM grab_requests g "  # noqa: S608 - constants
        "JOIN items i ON i.id = g.item_id WHERE g.id = %s"
    )
    return conn.execute(query, (grab_id,)).fetchone()


def finish_grab(
    conn: Connection,
    grab_id: int,
    via: str,
    state: str,
    external_id: str | None = None,
    error: str | None = None,
) -> None:
    conn.execute(
        "UPDATE grab_requests SET via = %s, state = %s, external_id = %s, error = %s WHERE id = %s",
        (via, state, external_id, error, grab_id),
    )


def note_grab_error(conn: Connection, grab_id: int, error: str) -> None:
    """A retryable failure: the request stays pending, the reason is visible meanwhile."""
    conn.execute(
        "UPDATE grab_requests SET error = %s WHERE id = %s AND state = 'pending'",
        (error, grab_id),
    )
