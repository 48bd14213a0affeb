"""Pending per-user work: one row per user while a refresh_profile (or rank_user) message for
them is on its way, so a burst of reasons to recompute sends one message, not one per reason.

"Latest wins" without losing an update: a sender that finds the row already there does not send
again, but locks the row until its transaction ends. The actor deletes the row (in its own
short transaction) before it reads the user's state; that delete waits for the lock, so every
change that relied on the pending message is committed, and read, by the recompute. A change
that commits after the delete finds no row, inserts one and sends again.
"""

from __future__ import annotations

from enum import StrEnum

from psycopg import sql

from recommendarr.shared.db import Connection

# The insert and the lock race only with an actor deleting the row in between; a second round
# settles it, and sending anyway is always safe.
ATTEMPTS = 3


class Pending(StrEnum):
    """The table of each kind of pending work (schema.sql)."""

    PROFILE = "profile_refresh_requests"
    RANKING = "rank_requests"


def request(conn: Connection, pending: Pending, user_id: int) -> bool:
    """Ask for the work in the caller's transaction; True when the caller must send the
    message (after commit), False when a pending message covers this request."""
    table = sql.Identifier(pending.value)
    for _ in range(ATTEMPTS):
        inserted = conn.execute(
            sql.SQL(
                "INSERT INTO {} (user_id) VALUES (%s) ON CONFLICT (user_id) DO NOTHING "
                "RETURNING user_id"
            ).format(table),
            (user_id,),
        ).fetchone()
        if inserted is not None:
            return True
        # An exclusive lock, held for the last moments of the sender's transaction: a share lock
        # would let a steady stream of one user's events starve the actor's delete, which
        # queues in order behind exclusive lockers.
        found = conn.execute(
            sql.SQL("SELECT user_id FROM {} WHERE user_id = %s FOR NO KEY UPDATE").format(table),
            (user_id,),
        ).fetchone()
        if found is not None:
            return False
    return True


def request_many(conn: Connection, pending: Pending, user_ids: list[int]) -> list[int]:
    """``request`` for many users at once (a refit re-ranks everyone): those to send to. Users
    with a pending message are left alone; no row is locked, as the batch only asks for a
    recompute of state that is already committed."""
    rows = conn.execute(
        sql.SQL(
            "INSERT INTO {} (user_id) SELECT unnest(%s::bigint[]) "
            "ON CONFLICT (user_id) DO NOTHING RETURNING user_id"
        ).format(sql.Identifier(pending.value)),
        (user_ids,),
    ).fetchall()
    return sorted(int(r["user_id"]) for r in rows)


def take(conn: Connection, pending: Pending, user_id: int) -> bool:
    """Consume the user's pending request; True when there was one. Commit before the work:
    an open delete would hold up every sender for this user until the work ends."""
    row = conn.execute(
        sql.SQL("DELETE FROM {} WHERE user_id = %s RETURNING user_id").format(
            sql.Identifier(pending.value)
        ),
        (user_id,),
    ).fetchone()
    return row is not None


def resend_stale(conn: Connection, pending: Pending, older_than_s: int, limit: int) -> list[int]:
    """Users whose request is older than `older_than_s` (its message was probably lost); their
    requested_at moves to now, so one lost message is re-sent once per reconcile, not on every
    run while the re-sent one waits in a long queue."""
    rows = conn.execute(
        sql.SQL(
            "UPDATE {table} SET requested_at = now() WHERE user_id IN ("
            "  SELECT user_id FROM {table} "
            "  WHERE requested_at <= now() - make_interval(secs => %s) "
            "  ORDER BY requested_at LIMIT %s) "
            "RETURNING user_id"
        ).format(table=sql.Identifier(pending.value)),
        (older_than_s, limit),
    ).fetchall()
    return sorted(int(r["user_id"]) for r in rows)
