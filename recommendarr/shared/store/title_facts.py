"""Title facts with their row versions (xmin), for the worker's facts cache."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from psycopg.rows import tuple_row

from recommendarr.shared.db import Connection, number_array
from recommendarr.shared.domain.taste import TitleFacts
from recommendarr.shared.store.profiles import facts_from_tuple


@dataclass(frozen=True, slots=True)
class TitleRecord:
    facts: TitleFacts
    vote_average: float | None
    vote_count: int | None
    year: int | None = None


def versions(conn: Connection, item_ids: Sequence[int]) -> dict[int, int]:
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(
            # xmin is an xid, which psycopg has no loader for; as text it parses to an int.
            "SELECT i.id, i.xmin::text::bigint FROM items i WHERE i.id = ANY(%s::bigint[])",
            (number_array(item_ids),),
        ).fetchall()
    return {int(r[0]): int(r[1]) for r in rows}


def records_with_versions(
    conn: Connection, item_ids: Sequence[int]
) -> dict[int, tuple[int, TitleRecord]]:
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(
            'SELECT i.id, i.tmdb_id, i.media_type, i.title, i.genres, i.directors, i."cast", '
            # In binary a real would arrive with float32's tail (7.300000190734863); through
            # numeric it is the 7.3 the text form gives.
            "i.vote_average::numeric::float8, i.vote_count, i.year, i.xmin::text::bigint "
            "FROM items i WHERE i.id = ANY(%s::bigint[])",
            (number_array(item_ids),),
            binary=True,  # its text arrays load a fifth faster in binary
        ).fetchall()
    return {
        int(r[0]): (int(r[10]), TitleRecord(facts_from_tuple(r[:7]), r[7], r[8], r[9]))
        for r in rows
    }
