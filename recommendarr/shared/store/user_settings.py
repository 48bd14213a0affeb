"""A user's taste settings, kept on their users row."""

from __future__ import annotations

from typing import Any

from recommendarr.shared.db import Connection
from recommendarr.shared.domain.user_settings import TasteSettings


def from_row(row: dict[str, Any]) -> TasteSettings:
    window = row["history_window_months"]
    return TasteSettings(
        history_window_months=None if window is None else int(window),
        cross_domain_blend=bool(row["cross_domain_blend"]),
    )


def taste_settings(conn: Connection, user_id: int) -> TasteSettings:
    """The user's settings; the defaults when there is no such user."""
    row = conn.execute(
        "SELECT history_window_months, cross_domain_blend FROM users WHERE id = %s", (user_id,)
    ).fetchone()
    return TasteSettings() if row is None else from_row(row)


def lock(conn: Connection, user_id: int) -> TasteSettings | None:
    """The settings, with the row locked until commit so two partial updates cannot undo each
    other; None when there is no such user. NO KEY UPDATE: inserts that reference the user
    (watch events, tokens) are not held up."""
    row = conn.execute(
        "SELECT history_window_months, cross_domain_blend FROM users WHERE id = %s "
        "FOR NO KEY UPDATE",
        (user_id,),
    ).fetchone()
    return None if row is None else from_row(row)


def update(conn: Connection, user_id: int, settings: TasteSettings) -> bool:
    """Store the settings; False when there is no such user."""
    cursor = conn.execute(
        "UPDATE users SET history_window_months = %s, cross_domain_blend = %s WHERE id = %s",
        (settings.history_window_months, settings.cross_domain_blend, user_id),
    )
    return cursor.rowcount == 1
