from __future__ import annotations

import json
from typing import Any

from recommendarr.functions.embed_item import embed_item
from recommendarr.functions.on_watch_event import on_watch_event
from recommendarr.functions.rank_user import rank_user
from recommendarr.functions.refresh_profile import refresh_profile
from recommendarr.shared import db
from recommendarr.shared.store import recommendations
from tests.conftest import queued, run_queued, table_counts
from tests.helpers import add_user, record_inbox, seed_library, watch

DAY = 86_400
T0 = 1_760_000_000


def picks(conn: db.Connection, user_id: int) -> list[dict[str, Any]]:
    """The picks exactly as GET /users/{id}/recommendations serves them."""
    body = recommendations.response_json(conn, user_id, "tonight", 10, "https://img/")
    assert body is not None
    items: list[dict[str, Any]] = json.loads(body)["items"]
    return items


def sci_fi_fan(conn: db.Connection) -> int:
    ids = seed_library(conn)
    for item_id in ids.values():
        embed_item(item_id)
    user_id = add_user(conn, "501", "maya")
    for n, (tmdb_id, progress) in enumerate([(27205, 100), (157336, 97), (862, 9)]):
        on_watch_event(record_inbox(conn, watch(tmdb_id, "501", progress, T0 + n * DAY)))
    run_queued()
    return user_id


def test_chain_writes_explained_picks(conn: db.Connection) -> None:
    user_id = sci_fi_fan(conn)
    served = picks(conn, user_id)
    titles = [p["title"] for p in served]
    assert titles[0] == "The Prestige"  # Nolan, science fiction, unseen
    assert "Inception" not in titles and "Toy Story" not in titles  # seen titles never return
    explanation = served[0]["explanation"]
    assert "Christopher Nolan" in explanation and "finished" in explanation
    assert {i["title"] for i in served[0]["influenced_by"]} <= {"Inception", "Interstellar"}
    assert served[0]["confidence"] in {"high", "medium"}
    # The abandoned Toy Story pushes its neighbours down.
    assert titles.index("Finding Nemo") > titles.index("Arrival")


def test_refresh_profile_twice_changes_nothing(conn: db.Connection) -> None:
    user_id = sci_fi_fan(conn)
    built = conn.execute("SELECT built_at, version FROM taste_profiles").fetchall()
    refresh_profile(user_id)
    assert conn.execute("SELECT built_at, version FROM taste_profiles").fetchall() == built
    assert queued()["profiles"] == 0


def test_rank_user_twice_changes_nothing(conn: db.Connection) -> None:
    user_id = sci_fi_fan(conn)
    before = conn.execute("SELECT * FROM recommendations ORDER BY rank").fetchall()
    runs = conn.execute("SELECT * FROM recommendation_runs").fetchall()
    rank_user(user_id)
    assert conn.execute("SELECT * FROM recommendations ORDER BY rank").fetchall() == before
    assert conn.execute("SELECT * FROM recommendation_runs").fetchall() == runs


def test_a_new_finish_refreshes_and_reranks(conn: db.Connection) -> None:
    user_id = sci_fi_fan(conn)
    on_watch_event(record_inbox(conn, watch(1124, "501", 100, T0 + 9 * DAY)))
    run_queued()
    titles = [p["title"] for p in picks(conn, user_id)]
    assert "The Prestige" not in titles


def test_profiles_skip_libraries_the_user_lost(conn: db.Connection) -> None:
    user_id = sci_fi_fan(conn)
    conn.execute("DELETE FROM user_library_access WHERE user_id = %s", (user_id,))
    conn.commit()
    refresh_profile(user_id)
    run_queued()
    assert table_counts(conn)["taste_profiles"] == 0
    assert picks(conn, user_id) == []


def test_missing_user_is_a_no_op(conn: db.Connection) -> None:
    refresh_profile(777)
    rank_user(777)
    assert table_counts(conn)["taste_profiles"] == 0
