"""Reads of TMDB's related titles (item_relations) for the worker's relation cache: a title's
lists with the version they were read at.

A title's version is its items row's xmin: every statement that changes a title's relations
stamps that row (schema.sql), so it gets a new xmin. Reading the versions of a thousand titles
is then one primary-key lookup each, not a count over forty thousand relations.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from psycopg.rows import tuple_row

from recommendarr.shared.db import Connection, number_array
from recommendarr.shared.domain.grab import TitleRelations


def relations_with_versions(
    conn: Connection, item_ids: Sequence[int]
) -> dict[int, tuple[int, TitleRelations]]:
    """Every existing title asked for, with its relations (none: empty arrays)."""
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(
            "SELECT i.id, i.xmin::text::bigint, r.related, r.similar, r.positions FROM items i "
            "LEFT JOIN LATERAL (SELECT array_agg(related_item_id ORDER BY kind, position) "
            "  AS related, array_agg(kind = 'similar' ORDER BY kind, position) AS similar, "
            "  array_agg(position ORDER BY kind, position) AS positions "
            "  FROM item_relations WHERE item_id = i.id) r ON true "
            "WHERE i.id = ANY(%s::bigint[])",
            (number_array(item_ids),),
            binary=True,
        ).fetchall()
    return {
        int(r[0]): (
            int(r[1]),
            TitleRelations.of(
                np.array(r[2] or [], dtype=np.int64),
                np.array(r[3] or [], dtype=np.bool_),
                np.array(r[4] or [], dtype=np.int64),
            ).read_only(),
        )
        for r in rows
    }
