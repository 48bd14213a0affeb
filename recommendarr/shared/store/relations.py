"""Reads of TMDB's related titles (item_relations) for the worker's relation cache: a title's
lists with the version they were read at, and the current versions.

A title's version is how many relations it has and when the newest was written: enrichment
inserts, repositions (both stamp recorded_at) or deletes rows, so every change moves one or the
other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
from psycopg.rows import tuple_row

from recommendarr.shared.db import Connection, number_array
from recommendarr.shared.domain.grab import TitleRelations

RelationsVersion = tuple[int, datetime]


def versions(conn: Connection, item_ids: Sequence[int]) -> dict[int, RelationsVersion]:
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(
            "SELECT item_id, count(*), max(recorded_at) FROM item_relations "
            "WHERE item_id = ANY(%s::bigint[]) GROUP BY item_id",
            (number_array(item_ids),),
            binary=True,
        ).fetchall()
    return {int(r[0]): (int(r[1]), r[2]) for r in rows}


def relations_with_versions(
    conn: Connection, item_ids: Sequence[int]
) -> dict[int, tuple[RelationsVersion, TitleRelations]]:
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(
            "SELECT item_id, count(*), max(recorded_at), "
            "array_agg(related_item_id ORDER BY kind, position), "
            "array_agg(kind = 'similar' ORDER BY kind, position), "
            "array_agg(position ORDER BY kind, position) "
            "FROM item_relations WHERE item_id = ANY(%s::bigint[]) GROUP BY item_id",
            (number_array(item_ids),),
            binary=True,
        ).fetchall()
    return {
        int(r[0]): (
            (int(r[1]), r[2]),
            TitleRelations.of(
                np.array(r[3], dtype=np.int64),
                np.array(r[4], dtype=np.bool_),
                np.array(r[5], dtype=np.int64),
            ).read_only(),
        )
        for r in rows
    }
