from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

from recommendarr.shared.domain.explain import Influence, explain_pick
from recommendarr.shared.domain.hashed_features import hashed_vector
from recommendarr.shared.domain.item_text import ItemFacts, content_hash
from recommendarr.shared.domain.ranking import Candidate, rank_candidates
from recommendarr.shared.domain.taste import (
    TasteProfile,
    TitleFacts,
    Viewing,
    build_profile,
    input_hash,
    positive_weight,
    summarize_titles,
)

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def viewing(
    item_id: int, action: str, progress: float, days_ago: float, session: str = "s"
) -> Viewing:
    return Viewing(
        item_id,
        "movies",
        action,
        progress,
        None,
        f"{session}{days_ago}",
        NOW - timedelta(days=days_ago),
    )


def test_completion_abandon_and_rewatch_are_told_apart() -> None:
    titles = {
        t.item_id: t
        for t in summarize_titles(
            [
                viewing(1, "stop", 0.97, 10),
                viewing(1, "watched", 0.97, 10),
                viewing(2, "stop", 0.10, 5),
                viewing(3, "watched", 0.9, 40),
                viewing(3, "watched", 0.95, 3),
                viewing(4, "stop", 0.5, 2),
            ]
        )
    }
    assert titles[1].finished and not titles[1].abandoned and titles[1].completions == 1
    assert titles[2].abandoned and not titles[2].finished
    assert titles[3].completions == 2
    assert not titles[4].abandoned and not titles[4].finished
    assert positive_weight(titles[3], NOW) > positive_weight(titles[1], NOW)
    assert positive_weight(titles[2], NOW) == 0.0


def test_recency_decays_weight() -> None:
    recent, old = summarize_titles([viewing(1, "watched", 1.0, 1), viewing(2, "watched", 1.0, 360)])
    assert positive_weight(recent, NOW) > 3 * positive_weight(old, NOW)


def test_profile_points_at_liked_and_away_from_abandoned() -> None:
    vectors = {i: np.eye(4, dtype=np.float32)[i] for i in range(4)}
    facts = {0: TitleFacts("A", ("Drama",), ("Dir",)), 1: TitleFacts("B", ("Horror",))}
    titles = summarize_titles([viewing(0, "watched", 1.0, 1), viewing(1, "stop", 0.05, 1)])
    profile = build_profile("movies", titles, vectors, facts, NOW)
    assert profile.centroid is not None and profile.anti_profile is not None
    assert int(np.argmax(profile.centroid)) == 0 and int(np.argmax(profile.anti_profile)) == 1
    assert profile.genre_weights == {"Drama": 1.0} and profile.person_weights == {"Dir": 1.0}


def test_input_hash_changes_with_events_and_vectors() -> None:
    rows = [viewing(1, "watched", 1.0, 1)]
    base = input_hash(rows, "m", [1])
    assert base == input_hash(list(rows), "m", [1])
    assert base != input_hash([*rows, viewing(2, "stop", 0.5, 1)], "m", [1])
    assert base != input_hash(rows, "m", [1, 2])
    assert base != input_hash(rows, "other-model", [1])


def facts(title: str, genres: tuple[str, ...], director: str) -> ItemFacts:
    return ItemFacts(1, "movie", title, 2000, genres, ("kw",), (director,), ("Actor",))


def test_hashed_vectors_are_deterministic_unit_vectors() -> None:
    a = hashed_vector(facts("A", ("Drama",), "X"), 256)
    assert a.shape == (256,) and abs(float(np.linalg.norm(a)) - 1) < 1e-5
    assert np.array_equal(a, hashed_vector(facts("A", ("Drama",), "X"), 256))
    same_director = hashed_vector(facts("B", ("Drama",), "X"), 256)
    stranger = hashed_vector(facts("C", ("Horror",), "Y"), 256)
    assert float(a @ same_director) > float(a @ stranger)


def test_content_hash_follows_the_facts() -> None:
    assert content_hash(facts("A", ("Drama",), "X")) == content_hash(facts("A", ("Drama",), "X"))
    assert content_hash(facts("A", ("Drama",), "X")) != content_hash(facts("A", ("Drama",), "Z"))


def test_explanations_name_only_watched_titles_and_real_people() -> None:
    profile = TasteProfile("movies", None, None, genre_weights={"Drama": 1.0})
    pick = TitleFacts("New One", ("Drama",), ("Denis Villeneuve",))
    influences = [
        Influence(
            1, "Arrival", 0.8, finished=True, rewatched=False, shared_people=("Denis Villeneuve",)
        ),
        Influence(
            2, "Sicario", 0.7, finished=True, rewatched=True, shared_people=("Denis Villeneuve",)
        ),
    ]
    text = explain_pick(pick, influences, {}, profile)
    assert text == "Directed by Denis Villeneuve: you finished Arrival and rewatched Sicario."
    plain = [Influence(3, "Heat", 0.5, finished=False, rewatched=False)]
    assert (
        explain_pick(pick, plain, {}, profile)
        == "Because you watched Heat: more drama in the same vein."
    )
    assert explain_pick(pick, [], {}, profile) == "Matches the drama you watch most."


def test_ranking_prefers_the_centroid_and_penalizes_the_anti_profile() -> None:
    vectors = {i: np.eye(3, dtype=np.float32)[i] for i in range(3)}
    titles = summarize_titles([viewing(0, "watched", 1.0, 1), viewing(1, "stop", 0.05, 1)])
    facts_by_id = {0: TitleFacts("Liked"), 1: TitleFacts("Dropped")}
    profile = build_profile("movies", titles, vectors, facts_by_id, NOW)
    near_liked = Candidate(10, TitleFacts("Near"), np.array([0.9, 0.0, 0.43], dtype=np.float32))
    near_dropped = Candidate(11, TitleFacts("Other"), np.array([0.6, 0.8, 0.0], dtype=np.float32))
    picks = rank_candidates(
        profile,
        [near_dropped, near_liked],
        {t.item_id: t for t in titles},
        vectors,
        facts_by_id,
        10,
    )
    assert [p.item_id for p in picks] == [10, 11]
    assert picks[0].influenced_by[0].title == "Liked"
    assert picks[1].signals["anti_similarity"] > 0


def test_signals_are_rounded_to_four_places_even_from_float32_vectors() -> None:
    vectors = {i: np.eye(3, dtype=np.float32)[i] for i in range(3)}
    titles = summarize_titles([viewing(0, "watched", 1.0, 1), viewing(1, "stop", 0.05, 1)])
    facts_by_id = {0: TitleFacts("Liked"), 1: TitleFacts("Dropped")}
    profile = build_profile("movies", titles, vectors, facts_by_id, NOW)
    odd = np.array([0.5312, 0.2027, 0.4526], dtype=np.float32)
    [pick] = rank_candidates(
        profile,
        [Candidate(10, TitleFacts("Odd"), odd)],
        {t.item_id: t for t in titles},
        vectors,
        facts_by_id,
        10,
    )
    assert pick.signals["content_similarity"] == 0.5312  # not 0.5311999917030334
    assert all(round(value, 4) == value for value in pick.signals.values()), pick.signals
    assert round(pick.score, 4) == pick.score


def test_each_pick_names_only_the_people_it_shares_with_its_influence() -> None:
    vectors = {0: np.array([1.0, 0.0, 0.0], dtype=np.float32)}
    titles = summarize_titles([viewing(0, "watched", 1.0, 1)])
    arrival = TitleFacts(
        "Arrival", directors=("Denis Villeneuve",), cast=("Amy Adams", "Jeremy Renner")
    )
    facts_by_id = {0: arrival}
    profile = build_profile("movies", titles, vectors, facts_by_id, NOW)
    near = np.array([0.9, 0.1, 0.0], dtype=np.float32)
    by_director = Candidate(10, TitleFacts("Dune", directors=("Denis Villeneuve",)), near)
    by_cast = Candidate(
        11, TitleFacts("Enchanted", directors=("Kevin Lima",), cast=("Amy Adams",)), near * 0.9
    )
    unrelated = Candidate(12, TitleFacts("Heat", directors=("Michael Mann",)), near * 0.8)
    picks = rank_candidates(
        profile,
        [by_director, by_cast, unrelated],
        {t.item_id: t for t in titles},
        vectors,
        facts_by_id,
        10,
    )
    # All three are pulled by Arrival; each names only the people it really has in common.
    shared = {p.item_id: p.influenced_by[0].shared_people for p in picks}
    assert shared == {10: ("Denis Villeneuve",), 11: ("Amy Adams",), 12: ()}


def test_two_distinct_tastes_become_two_moods() -> None:
    from recommendarr.shared.domain.taste import TITLES_PER_MOOD, mood_clusters

    horror = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    cartoons = np.array([0.0, 1.0, 0.0], dtype=np.float32)
    jitter = np.array([0.0, 0.0, 0.05], dtype=np.float32)
    vectors = {i: (horror if i < TITLES_PER_MOOD else cartoons) + jitter * i for i in range(16)}
    weights = {i: 1.0 + (i == 3) for i in range(16)}
    moods = mood_clusters(weights, vectors)
    assert len(moods) == 2
    assert {frozenset(m.item_ids) for m in moods} == {
        frozenset(range(TITLES_PER_MOOD)),
        frozenset(range(TITLES_PER_MOOD, 16)),
    }
    assert moods[0].item_ids[0] == 3  # the biggest mood first, its most liked title first
    assert abs(sum(m.weight for m in moods) - 1.0) < 1e-3
    again = mood_clusters(weights, vectors)
    assert [m.item_ids for m in again] == [m.item_ids for m in moods]  # deterministic


def test_a_short_history_has_no_moods() -> None:
    from recommendarr.shared.domain.taste import mood_clusters

    vectors = {i: np.eye(3, dtype=np.float32)[i % 3] for i in range(10)}
    assert mood_clusters(dict.fromkeys(range(10), 1.0), vectors) == []


def test_a_title_seen_once_is_summarized_as_the_general_rule_does() -> None:
    from recommendarr.shared.domain.taste import summarize_title, summarize_viewing

    for action in ("watched", "stop", "start", "rate"):
        for progress in (None, 0.0, 0.1, 0.19, 0.2, 0.5, 0.85, 1.0):
            for rating in (None, 3.0, 9.0):
                row = Viewing(7, "tv", action, progress, rating, None, NOW)
                general = summarize_title(7, [row, row])  # two rows take the general path
                once = summarize_viewing(7, row)
                assert once.completions == min(1, general.completions)
                assert once == replace(general, completions=once.completions)
