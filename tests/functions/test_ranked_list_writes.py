"""rankings.replace and replace_candidate_scores: ranks move, lists shrink, nothing lingers."""

from __future__ import annotations

import numpy as np
import pytest

from recommendarr.shared import db
from recommendarr.shared.domain.ranking import Pick
from recommendarr.shared.store import rankings
from tests.helpers import add_user, seed_library


def pick(item_id: int, score: float) -> Pick:
    return Pick(item_id, score, "medium", {"model_score": score}, [], f"because {item_id}")


def stored(conn: db.Connection, user_id: int) -> list[tuple[int, int, str]]:
    rows = conn.execute(
        "SELECT rank, item_id, explanation FROM recommendations "
        "WHERE user_id = %s AND mode = 'tonight' ORDER BY rank",
        (user_id,),
    ).fetchall()
    return [(r["rank"], r["item_id"], r["explanation"]) for r in rows]


def test_a_title_moving_up_and_a_shorter_list_replace_the_old_one(conn: db.Connection) -> None:
    ids = sorted(seed_library(conn).values())
    user_id = add_user(conn, "501", "maya")
    rankings.replace(
        conn, user_id, {"tonight": ([pick(i, 3.0 - n) for n, i in enumerate(ids[:3])], 3)}, "a"
    )
    # The title at rank 3 moves to rank 1, and the list loses a title.
    rankings.replace(conn, user_id, {"tonight": ([pick(ids[2], 5.0), pick(ids[0], 4.0)], 2)}, "b")
    conn.commit()

    assert stored(conn, user_id) == [
        (1, ids[2], f"because {ids[2]}"),
        (2, ids[0], f"because {ids[0]}"),
    ]
    run = conn.execute(
        "SELECT input_hash, total_candidates FROM recommendation_runs WHERE user_id = %s",
        (user_id,),
    ).fetchone()
    assert run is not None and (run["input_hash"], run["total_candidates"]) == ("b", 2)


def test_an_emptied_list_leaves_no_rows(conn: db.Connection) -> None:
    ids = sorted(seed_library(conn).values())
    user_id = add_user(conn, "501", "maya")
    rankings.replace(conn, user_id, {"tonight": ([pick(ids[0], 1.0)], 1)}, "a")
    rankings.replace(conn, user_id, {"tonight": ([], 0)}, "b")

    assert stored(conn, user_id) == []


def test_a_list_naming_a_title_twice_is_refused(conn: db.Connection) -> None:
    ids = sorted(seed_library(conn).values())
    user_id = add_user(conn, "501", "maya")

    with pytest.raises(ValueError, match="twice"):
        rankings.replace(
            conn, user_id, {"tonight": ([pick(ids[0], 2.0), pick(ids[0], 1.0)], 2)}, "a"
        )


def test_candidate_scores_keep_only_the_newest_set(conn: db.Connection) -> None:
    ids = sorted(seed_library(conn).values())
    user_id = add_user(conn, "501", "maya")
    rankings.replace_candidate_scores(
        conn, user_id, [(ids[0], 2.0, 0.9, "old a"), (ids[1], 1.0, 0.5, "old b")]
    )
    rankings.replace_candidate_scores(
        conn, user_id, [(ids[1], 3.0, 1.0, "new b"), (ids[2], 0.5, 0.2, "new c")]
    )

    rows = conn.execute(
        "SELECT item_id, score, happiness, reason FROM candidate_scores WHERE user_id = %s "
        "ORDER BY item_id",
        (user_id,),
    ).fetchall()
    assert [tuple(r.values()) for r in rows] == [
        (ids[1], 3.0, 1.0, "new b"),
        (ids[2], 0.5, 0.2, "new c"),
    ]


def test_removing_a_user_removes_their_lists(conn: db.Connection) -> None:
    ids = sorted(seed_library(conn).values())
    user_id = add_user(conn, "501", "maya")
    other = add_user(conn, "502", "sam")
    for someone in (user_id, other):
        rankings.replace(conn, someone, {"tonight": ([pick(ids[0], 1.0)], 1)}, "a")
        rankings.replace_candidate_scores(conn, someone, [(ids[0], 1.0, 1.0, "a")])
        rankings.replace_candidate_happiness(conn, someone, np.array([ids[0]]), np.array([1.0]))

    conn.execute("DELETE FROM users WHERE id = %s", (user_id,))

    for table in ("recommendations", "candidate_scores", "candidate_happiness"):
        left = conn.execute(f"SELECT DISTINCT user_id FROM {table}").fetchall()
        assert [r["user_id"] for r in left] == [other]


def test_lists_not_given_are_left_alone(conn: db.Connection) -> None:
    ids = sorted(seed_library(conn).values())
    user_id = add_user(conn, "501", "maya")
    rankings.replace(
        conn,
        user_id,
        {"tonight": ([pick(ids[0], 1.0)], 5), "rediscover": ([pick(ids[1], 1.0)], 1)},
        "a",
    )
    rankings.replace(conn, user_id, {"tonight": ([pick(ids[2], 1.0)], 4)}, "b")

    rows = conn.execute(
        "SELECT mode, item_id FROM recommendations WHERE user_id = %s ORDER BY mode", (user_id,)
    ).fetchall()
    assert [(r["mode"], r["item_id"]) for r in rows] == [
        ("rediscover", ids[1]),
        ("tonight", ids[2]),
    ]
    runs = conn.execute(
        "SELECT mode, input_hash, total_candidates FROM recommendation_runs WHERE user_id = %s "
        "ORDER BY mode",
        (user_id,),
    ).fetchall()
    assert [tuple(r.values()) for r in runs] == [("rediscover", "a", 1), ("tonight", "b", 4)]
