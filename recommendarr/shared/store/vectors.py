"""Title vectors and their versions (embedded_at), for the worker's vector cache."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from recommendarr.shared.db import Connection, as_array, number_array


def versions(conn: Connection, item_ids: Sequence[int], model: str) -> dict[int, datetime]:
    rows = conn.execute(
        "SELECT item_id, embedded_at FROM item_embeddings "
        "WHERE model = %s AND item_id = ANY(%s::bigint[])",
        (model, number_array(item_ids)),
    ).fetchall()
    return {int(r["item_id"]): r["embedded_at"] for r in rows}


def vectors_with_versions(
    conn: Connection, item_ids: Sequence[int], model: str
) -> dict[int, tuple[datetime, np.ndarray]]:
    rows = conn.execute(
        "SELECT item_id, embedded_at, embedding FROM item_embeddings "
        "WHERE model = %s AND item_id = ANY(%s::bigint[])",
        (model, number_array(item_ids)),
        binary=True,  # ten times faster than parsing vectors from text
    ).fetchall()
    return {int(r["item_id"]): (r["embedded_at"], as_array(r["embedding"])) for r in rows}
