"""Why a title is not among the picks, from stored facts only."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from recommendarr.shared.domain.adjustments import Override
from recommendarr.shared.domain.taste import TasteProfile, TitleFacts, TitleHistory
from recommendarr.shared.domain.why_not import (
    CandidateScore,
    FeedbackFact,
    WhyNot,
    WhyNotInputs,
    why_not,
)

NOW = datetime(2025, 3, 1, tzinfo=UTC)
LIGHTHOUSE = TitleFacts(
    "The Lighthouse", ("Horror", "Drama"), ("Robert Eggers",), ("R. Pattinson",)
)
WITCH = TitleFacts("The Witch", ("Horror", "Mystery"), ("Robert Eggers",), ("Anya Taylor-Joy",))
ARRIVAL = TitleFacts("Arrival", ("Drama", "Science Fiction"), ("Denis Villeneuve",), ("Amy Adams",))
SHINING = TitleFacts("The Shining", ("Horror",), ("Stanley Kubrick",), ("Jack Nicholson",))


def unit(*values: float) -> np.ndarray:
    vector = np.zeros(4, dtype=np.float32)
    vector[: len(values)] = values
    normalized: np.ndarray = vector / np.linalg.norm(vector)
    return normalized


def seen(item_id: int, progress: float, completions: int = 0, **kw: Any) -> TitleHistory:
    return TitleHistory(
        item_id=item_id,
        domain="movies",
        max_progress=progress,
        completions=completions,
        abandoned=kw.get("abandoned", False),
        rating=kw.get("rating"),
        last_seen=NOW - timedelta(days=3),
    )


PROFILE = TasteProfile(
    domain="movies",
    centroid=unit(1, 0.1),
    anti_profile=unit(0, 0, 1),
    item_weights={3: 0.5},
    abandoned={2: 0.9},
    genre_weights={"Science Fiction": 1.0, "Drama": 0.6, "Horror": 0.1},
)


def inputs(**changes: Any) -> WhyNotInputs:
    base = WhyNotInputs(
        item_id=1,
        key="movie:1",
        facts=WITCH,
        domain="movies",
        enriched=True,
        vector=unit(0.2, 0, 1),
        visible=True,
        titles=[seen(2, 0.22, abandoned=True), seen(3, 1.0, 1), seen(4, 0.1, abandoned=True)],
        known={2: LIGHTHOUSE, 3: ARRIVAL, 4: SHINING},
        vectors={2: unit(0.1, 0, 1)},
        profile=PROFILE,
        feedback=[],
        hidden={},
        overrides=[],
        candidate=CandidateScore(score=-1.2, happiness=0.12),
        scored_candidates=800,
        rank=None,
        typical_content=0.55,
        now=NOW,
    )
    return dataclasses.replace(base, **changes)


def signal_names(answer: WhyNot) -> list[str]:
    return [s.signal for s in answer.signals]


def test_an_unseen_horror_title_for_a_sci_fi_fan() -> None:
    answer = why_not(inputs())
    by_name = {s.signal: s for s in answer.signals}
    assert signal_names(answer) == [
        "content_similarity",
        "anti_similarity",
        "genre_match",
        "happiness",
    ]
    assert by_name["content_similarity"].value < 0.55
    assert "your current picks average 0.55" in by_name["content_similarity"].text
    assert "like The Lighthouse" in by_name["anti_similarity"].text
    assert "which you abandoned" in by_name["anti_similarity"].text
    genre = by_name["genre_match"]
    assert genre.text == (
        f"Genre match {genre.value:.2f}: you rarely finish horror (0 of 2 started); "
        "you have not watched any mystery"
    )
    assert by_name["happiness"].value == 0.12
    assert answer.can_override and answer.rank is None and answer.happiness == 0.12
    assert answer.summary == answer.signals[0].text


def test_abandoned_title_says_how_far() -> None:
    answer = why_not(inputs(item_id=2, key="movie:2", facts=LIGHTHOUSE, candidate=None))
    assert answer.signals[0].signal == "abandoned"
    assert answer.signals[0].text == "You abandoned The Lighthouse at 22%"
    assert answer.signals[0].value == 0.22
    assert "not_scored" not in signal_names(answer)  # already explained by the viewing


def test_finished_and_rated_low() -> None:
    titles = [seen(1, 1.0, 2, rating=3.0)]
    answer = why_not(inputs(titles=titles, candidate=None))
    assert answer.signals[0].text == "You finished The Witch 2 times"
    assert answer.signals[1].signal == "rated_low"
    assert answer.signals[1].text == "You rated The Witch 3/10"


def test_not_visible_is_said_without_naming_libraries() -> None:
    answer = why_not(inputs(visible=False, candidate=None))
    assert answer.signals[0].signal == "not_in_your_libraries"
    assert answer.signals[0].text == "It is not in any library you can see"


def test_feedback_and_overrides() -> None:
    until = NOW + timedelta(days=45)
    answer = why_not(
        inputs(
            feedback=[FeedbackFact("dismiss", None), FeedbackFact("hide", until)],
            overrides=[
                Override("genre", "horror", "suppress"),
                Override("person", "Robert Eggers", "block"),
                Override("genre", "Comedy", "block"),
            ],
        )
    )
    by_name = {s.signal: s for s in answer.signals}
    assert by_name["dismissed"].text == "You dismissed The Witch"
    assert by_name["hidden"].value == 45.0 and by_name["hidden"].until == until
    assert by_name["hidden"].text == "You hid The Witch until 15 April 2025"
    assert by_name["suppress_genre"].text == "You turned down horror (-0.75 on its score)"
    assert by_name["block_person"].text == "You blocked Robert Eggers"
    assert "block_genre" not in by_name  # Comedy is not one of its genres


def test_allowed_already_cannot_be_overridden_again() -> None:
    answer = why_not(inputs(overrides=[Override("title", "movie:1", "allow")]))
    assert not answer.can_override
    assert "anyway" in answer.summary


def test_similar_to_a_hidden_title() -> None:
    until = NOW + timedelta(days=10)
    answer = why_not(inputs(hidden={2: until}))
    hidden = next(s for s in answer.signals if s.signal == "hidden_similarity")
    assert hidden.value > 0.9
    assert hidden.text.startswith(f"Similar ({hidden.value:.2f}) to The Lighthouse, which you hid")


def test_missing_data_is_named() -> None:
    answer = why_not(inputs(enriched=False, vector=None, profile=None, candidate=None))
    assert signal_names(answer) == ["not_enriched", "no_vector", "no_profile"]
    assert "movie taste profile" in answer.signals[2].text


def test_unscored_candidate() -> None:
    answer = why_not(inputs(candidate=None, typical_content=None, profile=None))
    assert answer.signals[-1].signal == "not_scored"
    assert "800 titles scored for you" in answer.signals[-1].text


def test_a_ranked_title_says_where_it_is() -> None:
    answer = why_not(inputs(rank=4, candidate=CandidateScore(2.0, 0.99)))
    assert answer.summary == "The Witch is #4 in your picks."
    assert answer.signals[-1].text.startswith("Predicted happiness 0.99: above 99%")
