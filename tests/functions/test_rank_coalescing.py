"""Re-rankings coalesce per user, and new titles ask for one spaced refit per model: a growing
server (a history backfill, a big import) is not refitting and re-ranking everyone nonstop."""

from __future__ import annotations

import time

import dramatiq
from dramatiq.brokers.stub import StubBroker

from recommendarr.broker import broker
from recommendarr.functions.embed_item import embed_item
from recommendarr.functions.fit_taste_model import fit_taste_model
from recommendarr.functions.on_watch_event import on_watch_event
from recommendarr.functions.rank_user import rank_user
from recommendarr.functions.reconcile_derived import reconcile_derived
from recommendarr.shared import db, resources
from tests.conftest import queued, run_queued
from tests.helpers import FACTS, add_user, record_inbox, seed_library, watch

RECENT = int(time.time()) - 3 * 86_400
FIRST_SHELF = [27205, 157336, 862, 1124, 329865]
EMPTY = {"events": 0, "embeddings": 0, "profiles": 0}


def stocked(conn: db.Connection, tmdb_ids: list[int]) -> None:
    for item_id in seed_library(conn, tmdb_ids=tmdb_ids).values():
        embed_item(item_id)


def two_viewers(conn: db.Connection) -> tuple[int, int]:
    """Two users who watched from the first shelf; the model is fitted and both are ranked."""
    stocked(conn, FIRST_SHELF)
    maya, noor = add_user(conn, "501", "maya"), add_user(conn, "502", "noor")
    for user in ("501", "502"):
        for n, tmdb_id in enumerate((27205, 157336)):
            on_watch_event(record_inbox(conn, watch(tmdb_id, user, 100, RECENT + n * 60)))
    run_queued()
    return maya, noor


def pending_rankings(conn: db.Connection) -> list[int]:
    rows = conn.execute("SELECT user_id FROM rank_requests ORDER BY user_id").fetchall()
    return [int(r["user_id"]) for r in rows]


def messages_in(queue: str) -> list[dramatiq.Message[None]]:
    """What waits in a StubBroker queue, left in place."""
    assert isinstance(broker, StubBroker)
    return [dramatiq.Message.decode(m) for m in list(broker.queues[queue].queue)]


def delayed_fits() -> list[dramatiq.Message[None]]:
    return [m for m in messages_in("profiles.DQ") if m.actor_name == "fit_taste_model"]


def test_a_refit_ranks_each_user_once_even_with_a_ranking_pending(conn: db.Connection) -> None:
    maya, noor = two_viewers(conn)
    assert pending_rankings(conn) == []
    conn.execute("INSERT INTO rank_requests (user_id) VALUES (%s)", (maya,))
    conn.execute("DELETE FROM taste_models")  # so the next fit stores a new model
    conn.commit()
    fit_taste_model("test")
    messages = messages_in("profiles")
    assert [m.args for m in messages if m.actor_name == "rank_user"] == [(noor,)]
    assert pending_rankings(conn) == [maya, noor]
    run_queued()
    rank_user(maya)  # the message already on its way for maya
    assert pending_rankings(conn) == []


def test_new_titles_ask_for_one_refit_per_model_spaced_after_the_last_fit(
    conn: db.Connection,
) -> None:
    maya, noor = two_viewers(conn)
    [model_id] = [r["id"] for r in conn.execute("SELECT id FROM taste_models").fetchall()]
    stocked(conn, [t for t in FACTS if t not in FIRST_SHELF])  # most candidates now unknown
    rank_user(maya)
    rank_user(noor)
    rank_user(maya)
    [refit] = delayed_fits()  # one claim for this model, however many rankings noticed
    assert refit.args == (f"coverage:{model_id}",)
    eta_ms = int(refit.options["eta"]) - int(time.time() * 1000)
    # Fitted a moment ago: the refit waits out the minimum interval, not a fit's duration.
    interval_ms = resources.current().settings.refit_min_interval_s * 1000
    assert interval_ms - 10_000 < eta_ms <= interval_ms
    assert queued() == EMPTY


def test_a_refit_long_after_the_last_fit_is_sent_at_once(conn: db.Connection) -> None:
    maya, _ = two_viewers(conn)
    [model_id] = [r["id"] for r in conn.execute("SELECT id FROM taste_models").fetchall()]
    conn.execute("UPDATE taste_models SET fitted_at = now() - interval '1 hour'")
    conn.commit()
    stocked(conn, [t for t in FACTS if t not in FIRST_SHELF])
    rank_user(maya)
    assert delayed_fits() == []
    messages = messages_in("profiles")
    assert [m.args for m in messages if m.actor_name == "fit_taste_model"] == [
        (f"coverage:{model_id}",)
    ]
    run_queued()  # the refit knows the new titles: no further refit is asked for
    assert conn.execute("SELECT count(*) AS n FROM taste_models").fetchone() == {"n": 2}
    assert queued() == EMPTY and delayed_fits() == []


def test_a_slow_fit_spaces_the_next_one_by_a_few_of_its_durations(conn: db.Connection) -> None:
    maya, _ = two_viewers(conn)
    conn.execute("UPDATE taste_models SET fit_seconds = 100")
    conn.commit()
    stocked(conn, [t for t in FACTS if t not in FIRST_SHELF])
    rank_user(maya)
    [refit] = delayed_fits()
    eta_s = (int(refit.options["eta"]) - int(time.time() * 1000)) / 1000
    assert 480 < eta_s <= 500


def test_a_lost_ranking_message_is_resent_by_reconcile(conn: db.Connection) -> None:
    maya, _ = two_viewers(conn)
    on_watch_event(record_inbox(conn, watch(862, "501", 100, RECENT + 3_600)))
    run_queued()
    conn.execute("INSERT INTO rank_requests (user_id) VALUES (%s)", (maya,))
    conn.commit()
    reconcile_derived("test:0")
    assert queued() == EMPTY  # fresh: its message may be queued
    conn.execute("UPDATE rank_requests SET requested_at = now() - interval '2 min'")
    conn.commit()
    reconcile_derived("test:1")
    messages = messages_in("profiles")
    assert [(m.actor_name, m.args) for m in messages] == [("rank_user", (maya,))]
    run_queued()
    assert pending_rankings(conn) == []


def test_a_rebuild_that_changes_no_ranking_input_still_marks_the_lists_current(
    conn: db.Connection,
) -> None:
    """The lists are kept as they are, but they say they reflect the newest profile (what the
    API reports as profile_freshness)."""
    maya, _ = two_viewers(conn)
    before = conn.execute(
        "SELECT generated_at FROM recommendation_runs WHERE user_id = %s AND mode = 'tonight'",
        (maya,),
    ).fetchone()
    assert before is not None
    conn.execute(
        "UPDATE taste_profiles SET built_at = built_at + interval '1 minute' WHERE user_id = %s",
        (maya,),
    )
    conn.commit()
    rank_user(maya)
    rows = conn.execute(
        "SELECT r.mode, r.generated_at, r.profile_built_at = "
        "(SELECT max(built_at) FROM taste_profiles p WHERE p.user_id = r.user_id) AS current "
        "FROM recommendation_runs r WHERE r.user_id = %s",
        (maya,),
    ).fetchall()
    assert rows and all(r["current"] for r in rows)
    tonight = [r for r in rows if r["mode"] == "tonight"]
    assert tonight[0]["generated_at"] == before["generated_at"]  # not ranked again
    reconcile_derived("test:0", 0)
    assert queued() == EMPTY  # current, so the reconciler does not ask again


def test_picks_older_than_the_profile_they_read_are_not_stale(conn: db.Connection) -> None:
    """A ranking that waited for a rebuild's lock began before that build, but read it."""
    maya, _ = two_viewers(conn)
    conn.execute(
        "UPDATE recommendation_runs SET generated_at = generated_at - interval '1 minute' "
        "WHERE user_id = %s",
        (maya,),
    )
    conn.commit()
    reconcile_derived("test:0", 0)
    assert queued() == EMPTY
    conn.execute(
        "UPDATE recommendation_runs SET profile_built_at = profile_built_at - interval '1 minute' "
        "WHERE user_id = %s",
        (maya,),
    )
    conn.commit()
    reconcile_derived("test:1", 0)  # picks of an older build: ranked again
    messages = messages_in("profiles")
    assert [(m.actor_name, m.args) for m in messages] == [("rank_user", (maya,))]
