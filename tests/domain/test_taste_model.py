"""The server-wide taste model: what viewings become, who may shape it, and its storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from recommendarr.shared.domain import collaborative as collab
from recommendarr.shared.domain import taste_model as tm
from recommendarr.shared.domain.taste import TitleHistory

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def title(item_id: int, **changes: object) -> TitleHistory:
    base: dict[str, object] = {
        "item_id": item_id,
        "domain": "movies",
        "max_progress": 1.0,
        "completions": 1,
        "abandoned": False,
        "rating": None,
        "last_seen": NOW,
    }
    base.update(changes)
    return TitleHistory(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "vote", "stars"),
    [
        ({}, None, 4.0),
        ({"completions": 2}, None, 5.0),
        ({"completions": 0, "abandoned": True, "max_progress": 0.1}, None, 1.0),
        ({"completions": 0, "max_progress": 0.6}, None, 3.5),
        ({"completions": 0, "max_progress": 0.3}, None, 2.5),
        ({"rating": 6.0}, None, 3.0),
        ({"rating": 8.0, "completions": 2}, None, 4.5),
        ({"rating": 10.0, "completions": 3}, None, 5.0),
        ({"rating": 10.0}, "down", 1.0),
        ({"completions": 0, "abandoned": True}, "up", 5.0),
    ],
)
def test_what_a_viewing_says_in_stars(
    changes: dict[str, object], vote: str | None, stars: float
) -> None:
    assert tm.title_stars(title(1, **changes), vote) == stars


def test_ages_are_counted_from_the_users_latest_viewing() -> None:
    rows = tm.interactions_for_user(
        7, [title(1, last_seen=NOW - timedelta(days=30)), title(2)], quiz_liked=[(3, "movies")]
    )
    assert [(r.item_id, r.age_days, r.stars) for r in rows] == [
        (1, 30.0, 4.0),
        (2, 0.0, 4.0),
        (3, 0.0, tm.QUIZ_STARS),
    ]


def catalog(n: int) -> dict[int, collab.ItemMetadata]:
    genres = ["Drama", "Comedy", "Horror"]
    return {i: collab.ItemMetadata(genres=[genres[i % 3]], year=1990 + i) for i in range(1, n + 1)}


def liked(user_id: int, *items: int) -> list[tm.Interaction]:
    return [tm.Interaction(user_id, i, "movies", 5.0, 0.0) for i in items]


def test_a_pattern_needs_three_users_before_it_counts() -> None:
    two = tm.fit_server_model(liked(1, 1, 2) + liked(2, 1, 2), catalog(6))
    assert not tm.has_enough_supporters(two)
    three = tm.fit_server_model(liked(1, 1, 2) + liked(2, 1, 2) + liked(3, 1, 2), catalog(6))
    active_ids = three.item_ids[three.hybrid.item_model.active].tolist()
    assert active_ids == [1, 2]


def test_a_collaborative_pattern_lifts_the_co_watched_title() -> None:
    history = liked(1, 1, 2) + liked(2, 1, 2) + liked(3, 1, 2) + liked(4, 1)
    model = tm.fit_server_model(history, catalog(9))
    scores = tm.score_user(model, liked(4, 1))
    columns = model.columns([2, 5, 8])
    assert scores[columns[0]] > scores[columns[1]]
    assert scores[columns[0]] > scores[columns[2]]


def test_titles_outside_the_window_leave_the_history() -> None:
    model = tm.fit_server_model(liked(1, 1), catalog(4), tm.ModelParams(window_days=90))
    old = [tm.Interaction(1, 1, "movies", 5.0, 200.0)]
    assert tm.history_row(model, old)[1] == 0
    assert tm.history_row(model, [tm.Interaction(1, 1, "movies", 5.0, 10.0)])[1] == 1


def test_unknown_titles_have_no_column() -> None:
    model = tm.fit_server_model([], catalog(3))
    assert model.columns([1, 3, 99]).tolist() == [0, 2, -1]


def test_a_new_server_still_scores_by_content() -> None:
    model = tm.fit_server_model([], catalog(9))
    scores = tm.score_user(model, liked(1, 1))
    # Title 4 shares title 1's genre; title 2 does not.
    assert scores[model.columns([4])[0]] > scores[model.columns([2])[0]]


def test_the_stored_model_scores_exactly_like_the_fitted_one() -> None:
    history = liked(1, 1, 2, 3) + liked(2, 1, 2) + liked(3, 1, 2, 4) + liked(4, 2, 5)
    model = tm.fit_server_model(history, catalog(12), tm.ModelParams(window_days=None))
    loaded = tm.load_model(tm.dump_model(model))
    assert loaded.params == model.params
    np.testing.assert_array_equal(loaded.item_ids, model.item_ids)
    np.testing.assert_allclose(
        tm.score_user(loaded, liked(9, 1, 4)), tm.score_user(model, liked(9, 1, 4))
    )


def test_a_model_fitted_on_an_empty_server_scores_every_title_as_average() -> None:
    from recommendarr.shared.domain.picks import score_pool

    scores = score_pool(tm.fit_server_model([], {}), [], [5, 6])
    assert scores.blended.tolist() == [0.0, 0.0]


def test_starting_a_new_arrival_within_a_week_says_they_wanted_it() -> None:
    added = NOW - timedelta(days=10)
    eager = title(1, first_seen=added + timedelta(days=2))
    late = title(2, first_seen=added + timedelta(days=30))
    rated = title(3, first_seen=added + timedelta(days=1), rating=4.0)
    abandoned = title(4, first_seen=added, completions=0, abandoned=True, max_progress=0.1)
    rows = tm.interactions_for_user(
        1, [eager, late, rated, abandoned], added_at=dict.fromkeys([1, 2, 3, 4], added)
    )
    assert [r.stars for r in rows] == [4.5, 4.0, 2.0, 1.0]


def test_genres_never_touched_despite_plenty_on_offer_count_against() -> None:
    from recommendarr.shared.domain.picks import unexplored_genres, unexplored_penalty

    offered = [("Horror",)] * 12 + [("Drama",)] * 30 + [("Western",)] * 2
    watched = [("Drama",)] * 25
    assert unexplored_genres(offered, watched, 25) == {"Horror"}  # Western: too few to judge
    assert unexplored_genres(offered, watched, 5) == set()  # too little history to judge
    assert unexplored_penalty([("Horror", "Drama"), ("Drama",)], {"Horror"}).tolist() == [0.5, 0]
