"""The fitted server-wide taste model: its inputs, and the stored archive."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from recommendarr.shared.db import Connection
from recommendarr.shared.domain.collaborative import ItemMetadata
from recommendarr.shared.domain.taste import Viewing

KEEP_MODELS = 2


def fit_input_hash(conn: Connection) -> str:
    """What a fit would read, summarised: equal hashes mean refitting changes nothing."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM watch_events) AS events, "
        "(SELECT max(id) FROM watch_events) AS last_event, "
        "(SELECT count(*) FROM items) AS items, (SELECT max(id) FROM items) AS last_item, "
        "(SELECT max(fetched_at) FROM items) AS fetched, "
        "(SELECT count(*) FROM feedback WHERE kind IN ('up', 'down')) AS votes, "
        "(SELECT max(created_at) FROM feedback WHERE kind IN ('up', 'down')) AS last_vote"
    ).fetchone()
    assert row is not None
    return hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest()[:32]


def all_viewings(conn: Connection) -> dict[int, list[Viewing]]:
    """Every user's viewings: the server's patterns are fitted over all of them."""
    rows = conn.execute(
        "SELECT w.user_id, w.item_id, w.action, w.progress, w.rating, w.session_key, "
        "w.occurred_at, coalesce(l.domain, CASE WHEN i.media_type = 'tv' THEN 'tv' "
        "ELSE 'movies' END) AS domain "
        "FROM watch_events w JOIN items i ON i.id = w.item_id "
        "LEFT JOIN libraries l ON l.id = w.library_id ORDER BY w.occurred_at, w.id"
    ).fetchall()
    by_user: dict[int, list[Viewing]] = defaultdict(list)
    for r in rows:
        by_user[int(r["user_id"])].append(
            Viewing(
                item_id=int(r["item_id"]),
                domain=str(r["domain"]),
                action=str(r["action"]),
                progress=r["progress"],
                rating=r["rating"],
                session_key=r["session_key"],
                occurred_at=r["occurred_at"],
            )
        )
    return dict(by_user)


def all_votes(conn: Connection) -> dict[int, dict[int, str]]:
    rows = conn.execute(
        "SELECT user_id, item_id, kind FROM feedback WHERE kind IN ('up', 'down') "
        "ORDER BY created_at"
    ).fetchall()
    votes: dict[int, dict[int, str]] = defaultdict(dict)
    for r in rows:
        votes[int(r["user_id"])][int(r["item_id"])] = str(r["kind"])
    return dict(votes)


def catalog(conn: Connection) -> dict[int, ItemMetadata]:
    """The facts of every known title (vote counts and popularity stay out of the fit)."""
    rows = conn.execute(
        'SELECT id, genres, keywords, directors, "cast", year, language, collection_id FROM items'
    ).fetchall()
    return {
        int(r["id"]): ItemMetadata(
            genres=r["genres"] or (),
            keywords=r["keywords"] or (),
            directors=r["directors"] or (),
            cast=r["cast"] or (),
            year=r["year"],
            language=r["language"],
            collection=None if r["collection_id"] is None else str(r["collection_id"]),
        )
        for r in rows
    }


def save(
    conn: Connection,
    input_hash: str,
    n_users: int,
    n_items: int,
    n_events: int,
    archive: bytes,
    fit_seconds: float | None = None,
) -> int | None:
    """The new model's id, or None when a model of these inputs is already stored."""
    row = conn.execute(
        "INSERT INTO taste_models (input_hash, n_users, n_items, n_events, model, fit_seconds) "
        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (input_hash) DO NOTHING RETURNING id",
        (input_hash, n_users, n_items, n_events, archive, fit_seconds),
    ).fetchone()
    if row is None:
        return None
    conn.execute("DELETE FROM taste_model_requests WHERE requested_at < now() - interval '1 day'")
    conn.execute(
        "DELETE FROM taste_models WHERE id NOT IN "
        "(SELECT id FROM taste_models ORDER BY id DESC LIMIT %s)",
        (KEEP_MODELS,),
    )
    return int(row["id"])


def refit_key(model_id: int | None) -> str:
    return f"coverage:{model_id or 0}"


def request_refit(
    conn: Connection, model_id: int | None, min_interval_s: float, fits_apart: float
) -> float | None:
    """Claim the one refit asked for while ``model_id`` is the latest (None: no model yet).
    The seconds the refit should wait (until min_interval_s, or fits_apart times the last
    fit's duration, after that fit), or None when it was claimed already."""
    row = conn.execute(
        "INSERT INTO taste_model_requests (period_key) VALUES (%(key)s) "
        "ON CONFLICT (period_key) DO NOTHING RETURNING coalesce(("
        "  SELECT greatest(0, extract(epoch FROM m.fitted_at - now()) "
        "    + greatest(%(interval)s, %(apart)s * coalesce(m.fit_seconds, 0))) "
        "  FROM taste_models m WHERE m.id = %(model)s), 0)::float8 AS delay_s",
        {
            "key": refit_key(model_id),
            "model": model_id,
            "interval": min_interval_s,
            "apart": fits_apart,
        },
    ).fetchone()
    return None if row is None else float(row["delay_s"])


def has_model(conn: Connection, input_hash: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM taste_models WHERE input_hash = %s", (input_hash,)).fetchone()
        is not None
    )


def latest(conn: Connection) -> tuple[int, str] | None:
    """The newest model's id and input hash (an id alone can be handed out again after a
    restore)."""
    row = conn.execute(
        "SELECT id, input_hash FROM taste_models ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return None if row is None else (int(row["id"]), str(row["input_hash"]))


def archive(conn: Connection, model_id: int) -> bytes | None:
    row = conn.execute("SELECT model FROM taste_models WHERE id = %s", (model_id,)).fetchone()
    return None if row is None else bytes(row["model"])


def users_with_viewings(conn: Connection) -> list[int]:
    rows = conn.execute("SELECT DISTINCT user_id FROM watch_events ORDER BY user_id").fetchall()
    return [int(r["user_id"]) for r in rows]


def added_at(conn: Connection, item_ids: Iterable[int] | None = None) -> dict[int, datetime]:
    """When each title first reached a library (all titles, or the ones asked for)."""
    if item_ids is None:
        rows = conn.execute(
            "SELECT item_id, min(added_at) AS added FROM library_items GROUP BY item_id"
        ).fetchall()
    else:
        rows = conn.execute(
            "SELECT item_id, min(added_at) AS added FROM library_items "
            "WHERE item_id = ANY(%s) GROUP BY item_id",
            (list(item_ids),),
        ).fetchall()
    return {int(r["item_id"]): r["added"] for r in rows}
