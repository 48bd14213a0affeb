"""A user's overrides and hides, applied to standardized scores."""

from __future__ import annotations

import numpy as np
import pytest

from recommendarr.shared.domain.adjustments import (
    GENRE_BOOST,
    GENRE_SUPPRESS,
    HIDE_PENALTY,
    PERSON_SUPPRESS,
    TITLE_BOOST,
    Override,
    adjust_scores,
    hidden_penalty,
)
from recommendarr.shared.domain.taste import TitleFacts

KEYS = ["movie:1", "movie:2", "movie:3", "tv:4"]
FACTS = [
    TitleFacts("Alien", ("Horror", "Science Fiction"), ("Ridley Scott",), ("Sigourney Weaver",)),
    TitleFacts("Arrival", ("Drama", "Science Fiction"), ("Denis Villeneuve",), ("Amy Adams",)),
    TitleFacts("Toy Story", ("Animation", "Family"), ("John Lasseter",), ("Tom Hanks",)),
    TitleFacts("Severance", ("Drama", "Mystery"), ("Ben Stiller",), ("Adam Scott",)),
]
SCORES = np.array([1.0, 0.5, 0.0, -0.5])


def adjust(
    *overrides: Override, hidden: np.ndarray | None = None
) -> tuple[np.ndarray, list[dict[str, float]]]:
    vectors = np.eye(4, 8)
    result = adjust_scores(SCORES, KEYS, FACTS, vectors, overrides, hidden)
    return result.scores, result.notes


def test_nothing_to_apply_changes_nothing() -> None:
    scores, notes = adjust()
    assert np.array_equal(scores, SCORES)
    assert notes == [{}, {}, {}, {}]


def test_genre_boost_and_suppress_in_standard_deviations() -> None:
    scores, notes = adjust(
        Override("genre", "science fiction", "boost"), Override("genre", "Horror", "suppress")
    )
    assert scores[1] == pytest.approx(0.5 + GENRE_BOOST)
    assert scores[0] == pytest.approx(1.0 + GENRE_BOOST + GENRE_SUPPRESS)
    assert notes[0] == {"boost_genre": GENRE_BOOST, "suppress_genre": GENRE_SUPPRESS}
    assert scores[2] == 0.0 and notes[2] == {}


def test_several_matching_genres_count_once() -> None:
    scores, notes = adjust(
        Override("genre", "Drama", "boost"), Override("genre", "Science Fiction", "boost")
    )
    assert scores[1] == pytest.approx(0.5 + GENRE_BOOST)
    assert notes[1] == {"boost_genre": GENRE_BOOST}


def test_person_and_title_rules() -> None:
    scores, notes = adjust(
        Override("person", "tom hanks", "suppress"), Override("title", "tv:4", "boost")
    )
    assert scores[2] == pytest.approx(PERSON_SUPPRESS)
    assert scores[3] == pytest.approx(-0.5 + TITLE_BOOST)
    assert notes[3] == {"boost_title": TITLE_BOOST}


def test_block_removes_by_genre_person_or_title() -> None:
    scores, notes = adjust(
        Override("genre", "Horror", "block"),
        Override("person", "Ben Stiller", "block"),
        Override("title", "movie:3", "block"),
    )
    assert np.isneginf(scores[0]) and np.isneginf(scores[2]) and np.isneginf(scores[3])
    assert scores[1] == 0.5
    assert notes[0] == {"block_genre": 1.0} and notes[3] == {"block_person": 1.0}


def test_allow_beats_a_block_and_lifts_to_the_top_in_order() -> None:
    scores, notes = adjust(
        Override("genre", "Animation", "block"),
        Override("title", "movie:3", "allow"),
        Override("title", "tv:4", "allow"),
    )
    order = list(np.argsort(-scores))
    assert order[:2] == [2, 3]  # both allowed titles lead, in their own order
    assert scores[3] > scores[0] and np.isfinite(scores[2])
    assert notes[2]["allow"] > 0 and "block_genre" not in notes[2]


def test_hidden_titles_push_down_their_neighbours() -> None:
    hidden = np.zeros((1, 8))
    hidden[0, :2] = [0.9, np.sqrt(1 - 0.81)]  # close to candidate 0, a little to candidate 1
    scores, notes = adjust(hidden=hidden)
    assert scores[0] == pytest.approx(1.0 + hidden_penalty(0.9))
    assert notes[0]["hidden_similarity"] < notes[1].get("hidden_similarity", 0.0) <= 0
    assert scores[2] == 0.0 and "hidden_similarity" not in notes[2]


def test_hidden_penalty_shape() -> None:
    assert hidden_penalty(0.2) == 0.0
    assert hidden_penalty(1.0) == pytest.approx(-HIDE_PENALTY)
    assert hidden_penalty(0.5) > hidden_penalty(0.8)


def test_no_vectors_means_no_hide_penalty() -> None:
    result = adjust_scores(SCORES, KEYS, FACTS, None, [], np.ones((1, 8)))
    assert np.array_equal(result.scores, SCORES)


def test_mismatched_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        adjust_scores(SCORES, KEYS[:2], FACTS, None, [], None)
