"""Title search, limited to what the user may see."""

from __future__ import annotations

from typing import Any

from recommendarr.shared.db import Connection


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def titles_for_user(conn: Connection, user_id: int, query: str, limit: int) -> list[dict[str, Any]]:
    """Titles in the user's libraries whose name contains `query`; prefix matches first."""
    pattern = escape_like(query)
    return conn.execute(
        "SELECT i.tmdb_id, i.media_type, i.title, i.year, i.poster_path, "
        "EXISTS (SELECT 1 FROM watch_events w WHERE w.user_id = %(user)s AND w.item_id = i.id) "
        "  AS watched "
        "FROM items i WHERE i.title ILIKE %(contains)s AND EXISTS ("
        "  SELECT 1 FROM library_items li JOIN user_visible_libraries a "
        "  ON a.library_id = li.library_id AND a.user_id = %(user)s WHERE li.item_id = i.id) "
        "ORDER BY (i.title ILIKE %(prefix)s) DESC, i.title, i.year LIMIT %(limit)s",
        {"user": user_id, "contains": f"%{pattern}%", "prefix": f"{pattern}%", "limit": limit},
    ).fetchall()
