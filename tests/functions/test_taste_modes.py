"""The fitted taste model in the actors: fit once per input, every mode written, user rules."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from recommendarr.functions.embed_item import embed_item
from recommendarr.functions.fit_taste_model import fit_taste_model
from recommendarr.functions.on_watch_event import on_watch_event
from recommendarr.functions.rank_user import rank_user
from recommendarr.shared import db
from recommendarr.shared.domain.item_text import ItemFacts
from recommendarr.shared.store import items
from tests.conftest import queued, run_queued, table_counts
from tests.helpers import add_user, record_inbox, seed_library, watch

DAY = 86_400
LONG_AGO = int(time.time()) - 400 * DAY
RECENT = int(time.time()) - 3 * DAY


def listed(conn: db.Connection, user_id: int, mode: str) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT i.title, r.explanation, r.signals FROM recommendations r "
        "JOIN items i ON i.id = r.item_id WHERE r.user_id = %s AND r.mode = %s ORDER BY r.rank",
        (user_id, mode),
    ).fetchall()


def titles(conn: db.Connection, user_id: int, mode: str) -> list[str]:
    return [r["title"] for r in listed(conn, user_id, mode)]


def nolan_fan(conn: db.Connection, ts: int = RECENT) -> int:
    ids = seed_library(conn)
    for item_id in ids.values():
        embed_item(item_id)
    user_id = add_user(conn, "501", "maya")
    for n, (tmdb_id, progress) in enumerate([(27205, 100), (157336, 97), (862, 9)]):
        on_watch_event(record_inbox(conn, watch(tmdb_id, "501", progress, ts + n * 60)))
    run_queued()
    return user_id


def test_the_first_ranking_fits_the_model_and_ranks_again_with_it(conn: db.Connection) -> None:
    user_id = nolan_fan(conn)
    models = conn.execute("SELECT n_users, n_items, n_events FROM taste_models").fetchall()
    assert models == [{"n_users": 1, "n_items": 8, "n_events": 3}]
    [first] = listed(conn, user_id, "tonight")[:1]
    assert first["title"] == "The Prestige"
    assert {"model_score", "collaborative", "content", "trust"} <= set(first["signals"])


def test_fitting_the_same_inputs_again_stores_and_sends_nothing(conn: db.Connection) -> None:
    nolan_fan(conn)
    before = table_counts(conn)
    fit_taste_model("again")
    assert table_counts(conn) == before
    assert queued() == {"events": 0, "embeddings": 0, "profiles": 0}


def test_candidate_scores_hold_every_unseen_visible_title_with_its_happiness(
    conn: db.Connection,
) -> None:
    user_id = nolan_fan(conn)
    rows = conn.execute(
        "SELECT i.title, c.happiness, c.reason FROM candidate_scores c "
        "JOIN items i ON i.id = c.item_id WHERE c.user_id = %s ORDER BY c.score DESC",
        (user_id,),
    ).fetchall()
    assert [r["title"] for r in rows] == titles(conn, user_id, "tonight")
    assert all(0 < r["happiness"] <= 1 and r["reason"] for r in rows)


def test_happiness_is_kept_for_every_title_of_the_pool(conn: db.Connection) -> None:
    """Group night reads it for titles beyond the few hundred refined: the whole pool, in
    the same percentiles as the refined ones."""
    user_id = nolan_fan(conn)
    row = conn.execute(
        "SELECT item_ids, happiness FROM candidate_happiness WHERE user_id = %s", (user_id,)
    ).fetchone()
    assert row is not None
    ids = np.frombuffer(row["item_ids"], dtype="<i8")
    happiness = np.frombuffer(row["happiness"], dtype="<f4")
    unseen = conn.execute(
        "SELECT DISTINCT li.item_id FROM library_items li JOIN user_library_access a "
        "ON a.library_id = li.library_id AND a.user_id = %s WHERE NOT EXISTS "
        "(SELECT 1 FROM watch_events w WHERE w.user_id = %s AND w.item_id = li.item_id) "
        "ORDER BY 1",
        (user_id, user_id),
    ).fetchall()
    assert ids.tolist() == [r["item_id"] for r in unseen]
    assert sorted(np.round(happiness * len(ids)).astype(int).tolist()) == list(
        range(1, len(ids) + 1)
    )
    refined = conn.execute(
        "SELECT item_id, happiness FROM candidate_scores WHERE user_id = %s", (user_id,)
    ).fetchall()
    by_id = dict(zip(ids.tolist(), happiness.tolist(), strict=True))
    assert all(abs(by_id[r["item_id"]] - r["happiness"]) < 1e-4 for r in refined)


def test_rediscover_offers_what_was_finished_long_ago(conn: db.Connection) -> None:
    user_id = nolan_fan(conn, ts=LONG_AGO)
    rediscover = listed(conn, user_id, "rediscover")
    assert {r["title"] for r in rediscover} == {"Inception", "Interstellar"}  # not the abandon
    assert all("month" in r["explanation"] or "finished" in r["explanation"] for r in rediscover)


def test_rediscover_offers_only_what_a_library_the_user_sees_still_holds(
    conn: db.Connection,
) -> None:
    user_id = nolan_fan(conn, ts=LONG_AGO)
    conn.execute(
        "DELETE FROM library_items WHERE item_id = (SELECT id FROM items WHERE title = 'Inception')"
    )
    conn.commit()
    rank_user(user_id)
    assert titles(conn, user_id, "rediscover") == ["Interstellar"]
    conn.execute("DELETE FROM user_library_access WHERE user_id = %s", (user_id,))
    conn.commit()
    rank_user(user_id)
    assert titles(conn, user_id, "rediscover") == []


def test_recent_viewings_are_not_rediscovered(conn: db.Connection) -> None:
    user_id = nolan_fan(conn)
    assert titles(conn, user_id, "rediscover") == []


def test_blocked_genres_leave_and_allowed_titles_return(conn: db.Connection) -> None:
    user_id = nolan_fan(conn)
    conn.execute(
        "INSERT INTO influence_overrides (user_id, kind, key, action) VALUES "
        "(%s, 'genre', 'Animation', 'block'), (%s, 'title', 'movie:862', 'allow')",
        (user_id, user_id),
    )
    conn.commit()
    rank_user(user_id)
    tonight = titles(conn, user_id, "tonight")
    assert "WALL-E" not in tonight and "Finding Nemo" not in tonight
    # Toy Story was abandoned (and is animation), yet the user asked for it: it leads.
    assert tonight[0] == "Toy Story"


def test_a_hidden_title_pushes_its_neighbours_down(conn: db.Connection) -> None:
    user_id = nolan_fan(conn)
    before = titles(conn, user_id, "tonight")
    conn.execute(
        "INSERT INTO feedback (user_id, item_id, kind, until) SELECT %s, id, 'hide', "
        "now() + interval '3 months' FROM items WHERE title = 'The Prestige'",
        (user_id,),
    )
    conn.commit()
    rank_user(user_id)
    after = listed(conn, user_id, "tonight")
    assert "The Prestige" in before and "The Prestige" not in [r["title"] for r in after]


def test_grab_offers_related_titles_that_no_library_holds(conn: db.Connection) -> None:
    user_id = nolan_fan(conn)
    tenet = items.upsert_facts(
        conn,
        ItemFacts(
            577922,
            "movie",
            "Tenet",
            2020,
            ("Action", "Science Fiction"),
            ("time",),
            ("Christopher Nolan",),
            ("John David Washington",),
            "en",
            150,
        ),
    )
    conn.execute(
        "INSERT INTO item_relations (item_id, related_item_id, kind, position) "
        "SELECT id, %s, 'recommended', 0 FROM items WHERE title = 'Inception'",
        (tenet,),
    )
    conn.execute("UPDATE items SET vote_average = 7.2, vote_count = 9000 WHERE id = %s", (tenet,))
    conn.commit()
    embed_item(tenet)
    rank_user(user_id)
    [grab] = listed(conn, user_id, "grab")
    assert grab["title"] == "Tenet"
    assert "Inception" in grab["explanation"]
    assert grab["signals"]["related"] > 0 and grab["signals"]["quality"] > 6


def test_a_newcomers_quiz_shapes_their_first_list(conn: db.Connection) -> None:
    nolan_fan(conn)  # someone else's viewings: the server has a model
    newcomer = add_user(conn, "777", "newcomer")
    conn.execute(
        "INSERT INTO onboarding_answers (user_id, liked_item_ids, genre_sliders) "
        "SELECT %s, ARRAY(SELECT id FROM items WHERE title = 'WALL-E'), "
        '\'{"Horror": 1.0, "Science Fiction": -1.0}\'::jsonb',
        (newcomer,),
    )
    conn.commit()
    rank_user(newcomer)
    run_queued()
    tonight = listed(conn, newcomer, "tonight")
    order = [r["title"] for r in tonight]
    assert "WALL-E" not in order  # picked in the quiz: seen already
    # The only horror title and WALL-E's closest relative lead; the slid-away genre trails.
    assert set(order[:2]) == {"The Shining", "Finding Nemo"}
    assert all(r["signals"]["cold_start"] == 1.0 for r in tonight)


def test_a_title_added_to_a_library_reaches_the_next_ranking(conn: db.Connection) -> None:
    user_id = nolan_fan(conn)
    assert "Tenet" not in titles(conn, user_id, "tonight")
    tenet = items.upsert_facts(
        conn,
        ItemFacts(577922, "movie", "Tenet", 2020, ("Action",), (), ("Christopher Nolan",), ()),
    )
    conn.execute(
        "INSERT INTO library_items (library_id, item_id, rating_key) "
        "SELECT id, %s, 'rk-tenet' FROM libraries LIMIT 1",
        (tenet,),
    )
    conn.commit()
    embed_item(tenet)
    rank_user(user_id)
    assert "Tenet" in titles(conn, user_id, "tonight")


def test_a_shorter_history_window_forgets_old_favourites(conn: db.Connection) -> None:
    user_id = nolan_fan(conn, ts=RECENT - 150 * DAY)  # Inception and Interstellar, in May
    on_watch_event(record_inbox(conn, watch(694, "501", 100, RECENT)))  # The Shining, now
    run_queued()

    def prestige_score() -> float:
        [row] = [r for r in listed(conn, user_id, "tonight") if r["title"] == "The Prestige"]
        return float(row["signals"]["model_score"])

    everything = prestige_score()
    conn.execute("UPDATE users SET history_window_months = 3 WHERE id = %s", (user_id,))
    conn.commit()
    rank_user(user_id)
    assert prestige_score() < everything  # the Nolan films left the window
