"""What a library sync writes: servers, libraries, their titles, users and who may open what.

Every write is conditional on a difference, so a sync of unchanged upstream data leaves every
row as it was (only servers.synced_at, the time of the last sync, moves).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from recommendarr.shared.db import Connection


def lock_server(conn: Connection, kind: str, machine_id: str) -> None:
    """One sync of a server writes at a time (the clock's and an admin's may overlap)."""
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
        (f"sync_library:{kind}:{machine_id}",),
    )


def claim_server(
    conn: Connection, kind: str, machine_id: str, name: str, owner_account_id: str | None
) -> int:
    row = conn.execute(
        "INSERT INTO servers (kind, machine_id, name, owner_account_id, synced_at) "
        "VALUES (%s, %s, %s, %s, now()) ON CONFLICT (kind, machine_id) DO UPDATE SET "
        "name = coalesce(nullif(EXCLUDED.name, ''), servers.name), "
        "owner_account_id = coalesce(EXCLUDED.owner_account_id, servers.owner_account_id), "
        "synced_at = now() RETURNING id",
        (kind, machine_id, name, owner_account_id),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def domain_overrides(conn: Connection, server_id: int) -> dict[str, str]:
    """Libraries whose domain an operator set by hand: section key -> domain."""
    rows = conn.execute(
        "SELECT section_key, domain FROM libraries WHERE server_id = %s AND domain_overridden",
        (server_id,),
    ).fetchall()
    return {str(r["section_key"]): str(r["domain"]) for r in rows}


def upsert_library(
    conn: Connection, server_id: int, section_key: str, name: str, kind: str, domain: str
) -> int:
    """The library's id; its name, kind and (unless overridden) domain follow the server.
    synced_at marks a library the sync knows: set on the first sync and on every change."""
    row = conn.execute(
        "INSERT INTO libraries (server_id, section_key, name, kind, domain, synced_at) "
        "VALUES (%s, %s, %s, %s, %s, now()) ON CONFLICT (server_id, section_key) DO UPDATE SET "
        "name = EXCLUDED.name, kind = EXCLUDED.kind, "
        "domain = CASE WHEN libraries.domain_overridden THEN libraries.domain "
        "  ELSE EXCLUDED.domain END, synced_at = now() "
        "WHERE libraries.synced_at IS NULL OR (libraries.name, libraries.kind) IS DISTINCT FROM "
        "  (EXCLUDED.name, EXCLUDED.kind) OR (NOT libraries.domain_overridden "
        "  AND libraries.domain IS DISTINCT FROM EXCLUDED.domain) RETURNING id",
        (server_id, section_key, name, kind, domain),
    ).fetchone()
    if row is not None:
        return int(row["id"])
    existing = conn.execute(
        "SELECT id FROM libraries WHERE server_id = %s AND section_key = %s",
        (server_id, section_key),
    ).fetchone()
    assert existing is not None
    return int(existing["id"])


def managed_libraries(conn: Connection, server_id: int) -> list[int]:
    """Libraries a sync has confirmed at some point, gone upstream or not. Placeholder libraries
    that webhooks create for servers that do not name theirs are not among them."""
    rows = conn.execute(
        "SELECT id FROM libraries WHERE server_id = %s AND synced_at IS NOT NULL ORDER BY id",
        (server_id,),
    ).fetchall()
    return [int(r["id"]) for r in rows]


def upsert_library_item(
    conn: Connection,
    library_id: int,
    item_id: int,
    rating_key: str,
    added_at: datetime | None,
    file_size: int | None,
    media_info: dict[str, Any],
) -> bool:
    """True when the row was created or changed."""
    row = conn.execute(
        "INSERT INTO library_items (library_id, item_id, rating_key, added_at, file_size, "
        "media_info) VALUES (%s, %s, %s, coalesce(%s, now()), %s, %s) "
        "ON CONFLICT (library_id, rating_key) DO UPDATE SET item_id = EXCLUDED.item_id, "
        "added_at = coalesce(%s, library_items.added_at), file_size = EXCLUDED.file_size, "
        "media_info = EXCLUDED.media_info "
        "WHERE (library_items.item_id, library_items.file_size, library_items.media_info) "
        "  IS DISTINCT FROM (EXCLUDED.item_id, EXCLUDED.file_size, EXCLUDED.media_info) "
        "  OR (%s::timestamptz IS NOT NULL AND library_items.added_at <> %s) RETURNING id",
        (
            library_id,
            item_id,
            rating_key,
            added_at,
            file_size,
            Jsonb(media_info),
            added_at,
            added_at,
            added_at,
        ),
    ).fetchone()
    return row is not None


def remove_library_items_except(conn: Connection, library_id: int, keep: Iterable[str]) -> int:
    """Titles the server no longer has (or no longer names by that key) leave the library."""
    cur = conn.execute(
        "DELETE FROM library_items WHERE library_id = %s AND NOT (rating_key = ANY(%s))",
        (library_id, list(keep)),
    )
    return cur.rowcount


def fill_external_ids(
    conn: Connection, item_id: int, imdb_id: str | None, tvdb_id: int | None
) -> None:
    """Record IMDb/TVDB ids the server knows, where the item has none yet."""
    if imdb_id is None and tvdb_id is None:
        return
    conn.execute(
        "UPDATE items SET imdb_id = coalesce(imdb_id, %s), tvdb_id = coalesce(tvdb_id, %s) "
        "WHERE id = %s AND ((imdb_id IS NULL AND %s::text IS NOT NULL) "
        "  OR (tvdb_id IS NULL AND %s::integer IS NOT NULL))",
        (imdb_id, tvdb_id, item_id, imdb_id, tvdb_id),
    )


def claim_plex_owner(conn: Connection, plex_user_id: str, username: str, friendly: str) -> int:
    """The server owner's row, keyed by their plex.tv id from now on.

    The owner may already exist twice: as the row Plex webhooks created for the alias id 1
    (is_owner, no plex id) and as the row Tautulli created for the plex.tv id. The plex.tv id
    row wins and becomes the owner; the alias row stops being the owner, so webhooks that say
    "1" land on the same person from now on. Rows are not merged (their past events stay)."""
    row = conn.execute("SELECT id FROM users WHERE plex_user_id = %s", (plex_user_id,)).fetchone()
    if row is None:
        row = conn.execute(
            "UPDATE users SET plex_user_id = %s WHERE id = (SELECT id FROM users "
            "WHERE is_owner AND plex_user_id IS NULL ORDER BY id LIMIT 1) RETURNING id",
            (plex_user_id,),
        ).fetchone()
    if row is None:
        row = conn.execute(
            "INSERT INTO users (username, friendly_name, plex_user_id, is_owner) "
            "VALUES (%s, %s, %s, true) RETURNING id",
            (username, friendly or None, plex_user_id),
        ).fetchone()
    assert row is not None
    owner_id = int(row["id"])
    conn.execute(
        "UPDATE users SET is_owner = (id = %s) WHERE (is_owner OR id = %s) "
        "AND is_owner IS DISTINCT FROM (id = %s) AND (jellyfin_user_id IS NULL OR id = %s)",
        (owner_id, owner_id, owner_id, owner_id),
    )
    conn.execute(
        "UPDATE users SET username = %s, friendly_name = coalesce(%s, friendly_name) "
        "WHERE id = %s AND (username <> %s OR friendly_name IS DISTINCT FROM "
        "  coalesce(%s, friendly_name))",
        (username, friendly or None, owner_id, username, friendly or None),
    )
    return owner_id


def grant(conn: Connection, user_id: int, library_id: int) -> bool:
    """Confirm access; True when the user could not open the library before."""
    row = conn.execute(
        "INSERT INTO user_library_access (user_id, library_id, granted_by) VALUES (%s, %s, 'sync') "
        "ON CONFLICT (user_id, library_id) DO UPDATE SET granted_by = 'sync', synced_at = now() "
        "WHERE user_library_access.granted_by <> 'sync' RETURNING (xmax = 0) AS inserted",
        (user_id, library_id),
    ).fetchone()
    return row is not None and bool(row["inserted"])


def revoke_unconfirmed(
    conn: Connection, library_ids: Iterable[int], confirmed: Iterable[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Delete access to these libraries that the sync did not confirm, whoever granted it
    (playback included): the (user, library) pairs removed."""
    pairs = list(confirmed)
    rows = conn.execute(
        "DELETE FROM user_library_access a WHERE a.library_id = ANY(%s) AND NOT EXISTS ("
        "  SELECT 1 FROM unnest(%s::bigint[], %s::bigint[]) AS k(user_id, library_id) "
        "  WHERE k.user_id = a.user_id AND k.library_id = a.library_id) "
        "RETURNING a.user_id, a.library_id",
        (list(library_ids), [u for u, _ in pairs], [lib for _, lib in pairs]),
    ).fetchall()
    return sorted((int(r["user_id"]), int(r["library_id"])) for r in rows)
