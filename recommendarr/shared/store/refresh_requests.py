"""Pending profile refreshes: one row per user while a refresh_profile message is on its way.

"Latest wins" without losing an update: an event that finds the row already there does not send
again, but locks the row until its transaction ends. refresh_profile deletes the row (in its own
short transaction) before it reads the user's history; that delete waits for the lock, so every
event that relied on the pending message is committed, and read, by the rebuild. An event that
commits after the delete finds no row, inserts one and sends again.
"""

from __future__ import annotations

from recommendarr.shared.db import Connection

# The insert and the lock race only with a refresh deleting the row in between; a second round
# settles it, and sending anyway is always safe.
ATTEMPTS = 3


def request(conn: Connection, user_id: int) -> bool:
    """Ask for a refresh of the user's profile in the caller's transaction; True when the caller
    must send refresh_profile (after commit), False when a pending message covers this one."""
    for _ in range(ATTEMPTS):
        inserted = conn.execute(
            "INSERT INTO profile_refresh_requests (user_id) VALUES (%s) "
            "ON CONFLICT (user_id) DO NOTHING RETURNING user_id",
            (user_id,),
        ).fetchone()
        if inserted is not None:
            return True
        # An exclusive lock, held for the last moments of the event's transaction: a share lock
        # would let a steady stream of one user's events starve the refresh's delete, which
        # queues in order behind exclusive lockers.
        pending = conn.execute(
            "SELECT user_id FROM profile_refresh_requests WHERE user_id = %s FOR NO KEY UPDATE",
            (user_id,),
        ).fetchone()
        if pending is not None:
            return False
    return True


def take(conn: Connection, user_id: int) -> bool:
    """Consume the user's pending request; True when there was one. Commit before rebuilding:
    an open delete would hold up every event of the user until the rebuild ends."""
    row = conn.execute(
        "DELETE FROM profile_refresh_requests WHERE user_id = %s RETURNING user_id", (user_id,)
    ).fetchone()
    return row is not None


def resend_stale(conn: Connection, older_than_s: int, limit: int) -> list[int]:
    """Users whose request is older than `older_than_s` (its message was probably lost); their
    requested_at moves to now, so one lost message is re-sent once per reconcile, not on every
    run while the re-sent one waits in a long queue."""
    rows = conn.execute(
        "UPDATE profile_refresh_requests SET requested_at = now() WHERE user_id IN ("
        "  SELECT user_id FROM profile_refresh_requests "
        "  WHERE requested_at <= now() - make_interval(secs => %s) "
        "  ORDER BY requested_at LIMIT %s) "
        "RETURNING user_id",
        (older_than_s, limit),
    ).fetchall()
    return sorted(int(r["user_id"]) for r in rows)
