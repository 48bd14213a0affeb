"""The insert-only change logs (schema.sql) that tell a worker's caches whether what they hold
may be out of date: library_changes for library membership, title_changes for title facts
and vectors."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, NamedTuple

from psycopg import sql

from recommendarr.shared.db import Connection

ChangeLog = Literal["library_changes", "title_changes"]


class Stamp(NamedTuple):
    rows: int
    last: int | None
    ids: object  # sum(id): a numeric
    latest: datetime | None


def stamp(conn: Connection, log: ChangeLog) -> Stamp:
    """Moves with every committed change the log records. The count catches a change
    committed after a later one (ids are handed out at insert); the time tells apart equal ids
    handed out again (a restored or truncated table)."""
    row = conn.execute(
        sql.SQL(
            "SELECT count(*) AS rows, max(id) AS last, sum(id) AS ids, max(changed_at) AS latest "
            "FROM {}"
        ).format(sql.Identifier(log))
    ).fetchone()
    assert row is not None
    return Stamp(*row.values())


def fold(conn: Connection, log: ChangeLog) -> bool:
    """Replace the log's committed rows with one new row, when it holds more than one: the
    summary stays a read of a few rows whatever an import wrote. The new row's id is above
    every earlier one, so the summary differs from any read before (each cached entry is
    checked once more), even where a change committed late was among the rows folded."""
    cursor = conn.execute(
        sql.SQL(
            "WITH folded AS (DELETE FROM {log} WHERE (SELECT count(*) FROM {log}) > 1 "
            "RETURNING id) "
            "INSERT INTO {log} (changed_at) SELECT now() WHERE EXISTS (SELECT FROM folded)"
        ).format(log=sql.Identifier(log))
    )
    return cursor.rowcount > 0
