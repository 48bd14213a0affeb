"""Explanations: enough templates, chosen by mode and dominant signal, never an invented fact."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import recommendarr.shared.domain.explain as explain_module
from recommendarr.shared.domain.explain import (
    MODES,
    TEMPLATES,
    Influence,
    PickContext,
    Reason,
    dominant_signal,
    explain,
    explain_pick,
    format_score,
    template_fields,
)
from recommendarr.shared.domain.taste import TasteProfile, TitleFacts

SAMPLE_FIELDS = {
    "person": "Denis Villeneuve",
    "viewings": "finished Arrival and rewatched Sicario",
    "viewings_short": "finished",
    "titles": "Arrival and Sicario",
    "title": "Arrival",
    "genres": "science fiction and drama",
    "genre": "science fiction",
    "quality": "8.1",
    "months": "14 months",
    "rating": "9",
    "times": "twice",
    "progress": "40%",
    "related": "Arrival",
    "verb": "finished",
    "them": "it",
    "quiz": "Arrival and Heat",
}


def phrasings() -> list[tuple[str, str]]:
    return [(family, text) for family, texts in TEMPLATES.items() for text in texts]


def test_at_least_thirty_distinct_templates_each_renders() -> None:
    all_phrasings = [text for _, text in phrasings()]
    assert len(all_phrasings) >= 30
    assert len(set(all_phrasings)) == len(all_phrasings)
    for family, text in phrasings():
        assert template_fields(family) <= SAMPLE_FIELDS.keys(), family
        rendered = text.format(**SAMPLE_FIELDS)
        assert rendered.strip() and "{" not in rendered and "}" not in rendered


# --- every family is reachable, and the values passed show up ---------------------------------

DUNE = TitleFacts(
    "Dune",
    genres=("Science Fiction", "Drama"),
    directors=("Denis Villeneuve",),
    cast=("Timothée Chalamet", "Zendaya"),
)
PROFILE = TasteProfile("movies", None, None, genre_weights={"Science Fiction": 1.0, "Drama": 0.5})
NO_GENRES = TasteProfile("movies", None, None)
ARRIVAL = Influence(1, "Arrival", 0.8, True, False, shared_people=("Denis Villeneuve",))
HEAT = Influence(2, "Heat", 0.6, True, True)
WONKA = Influence(3, "Wonka", 0.5, True, False, shared_people=("Timothée Chalamet",))


@dataclass(frozen=True)
class Case:
    family: str
    context: PickContext
    influences: Sequence[Influence] = ()
    signals: Mapping[str, float] = field(default_factory=dict)
    profile: TasteProfile = field(default_factory=lambda: PROFILE)


def ctx(mode: str, **kwargs: object) -> PickContext:
    return PickContext(mode, **kwargs)  # type: ignore[arg-type]


NEAR = {"neighbor_similarity": 0.6}
CASES = [
    Case("person_director", ctx("tonight"), [ARRIVAL], {"person_affinity": 1.0}),
    Case("person_cast", ctx("tonight"), [WONKA], {"person_affinity": 1.0}),
    Case("neighbours_genre", ctx("tonight"), [HEAT], NEAR),
    Case("neighbours", ctx("tonight"), [HEAT], NEAR, NO_GENRES),
    Case("genre", ctx("tonight"), [], {"genre_affinity": 0.8}),
    Case("collaborative", ctx("tonight"), [HEAT], {"collaborative": 2.5, **NEAR}),
    Case("quality", ctx("tonight"), [], {"quality": 8.1}),
    Case("content", ctx("tonight")),
    Case("boost_genre", ctx("tonight", boosted=("Drama",)), [], {"boost_genre": 1.0}),
    Case("boost_person", ctx("tonight", boosted=("Zendaya",)), [], {"boost_person": 1.0}),
    Case("boost_title", ctx("tonight", boosted=("Heat",)), [HEAT], {"boost_title": 1.0}),
    Case("boost", ctx("tonight", boosted=("Comedy",)), [], {"boost_genre": 1.0}),
    Case("allowed", ctx("tonight", allowed_by_user=True)),
    Case("grab_related_seen", ctx("grab", related_to=("Arrival",)), [ARRIVAL]),
    Case("grab_related", ctx("grab", related_to=("Arrival",))),
    Case("grab_trending_related", ctx("grab", related_to=("Arrival",), trending=True)),
    Case("grab_trending", ctx("grab", trending=True)),
    Case("rediscover_rewatched", ctx("rediscover", times_finished=3)),
    Case("rediscover_finished_ago", ctx("rediscover", times_finished=1, months_since_watched=14)),
    Case("rediscover_finished", ctx("rediscover", times_finished=1)),
    Case("rediscover_unfinished", ctx("rediscover", last_progress=0.4)),
    Case("rediscover_rated", ctx("rediscover", rating=9.0)),
    Case("rediscover_ago", ctx("rediscover", months_since_watched=5)),
    Case("rediscover_plain", ctx("rediscover")),
    Case("cold_quiz_close", ctx("cold", quiz_liked=("Arrival",)), [ARRIVAL]),
    Case("cold_quiz", ctx("cold", quiz_liked=("Arrival",))),
    Case("cold_popular_genre", ctx("cold", quiz_genres=("Drama",)), [], {"popularity": 3.0}),
    Case("cold_genre", ctx("cold", quiz_genres=("Drama",))),
    Case("cold_popular", ctx("cold"), [], {"popularity": 3.0}),
    Case("cold_plain", ctx("cold")),
    Case("shuffle_neighbour", ctx("shuffle"), [HEAT], NEAR),
    Case("shuffle_genre", ctx("shuffle"), [], {"genre_affinity": 0.8}),
    Case("shuffle_quality", ctx("shuffle"), [], {"quality": 9.0}),
    Case("shuffle_plain", ctx("shuffle")),
    Case("group_person", ctx("group", member="Maya"), [ARRIVAL], {"person_affinity": 1.0}),
    Case("group_genre_title", ctx("group", member="Maya"), [HEAT], NEAR),
    Case("group_title", ctx("group", member="Maya"), [HEAT], NEAR, NO_GENRES),
    Case("group_genre", ctx("group", member="Maya"), [], {"genre_affinity": 0.8}),
    Case("group_quality", ctx("group", member="Maya"), [], {"quality": 9.0}),
    Case("group_plain", ctx("group", member="Maya")),
    Case("group_allowed", ctx("group", member="Maya", allowed_by_user=True)),
]


def run(case: Case, candidate: TitleFacts = DUNE) -> str:
    return explain(candidate, case.influences, case.signals, case.profile, case.context)


def test_every_family_is_reachable(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real = explain_module.render

    def spy(reason: Reason, key: str, variant: int | None = None) -> str:
        seen.append(reason.family)
        return real(reason, key, variant)

    monkeypatch.setattr(explain_module, "render", spy)
    for case in CASES:
        seen.clear()
        run(case)
        assert case.family in seen, (case.family, seen)
    assert {case.family for case in CASES} == set(TEMPLATES)


def retitled(n: int) -> list[TitleFacts]:
    """The same facts under many titles: the phrasing hash walks through every variant."""
    return [TitleFacts(f"Dune {i}", DUNE.genres, DUNE.directors, DUNE.cast) for i in range(n)]


def every_phrasing(case: Case) -> set[str]:
    return {run(case, candidate) for candidate in retitled(40)}


def test_rediscover_says_the_months_the_rating_and_the_count() -> None:
    context = ctx("rediscover", months_since_watched=14, times_finished=1, rating=9.0)
    for text in every_phrasing(Case("", context)):
        assert "14 months" in text and "9/10" in text
    again = ctx("rediscover", months_since_watched=26, times_finished=3, rating=8.5)
    for text in every_phrasing(Case("", again)):
        assert "3 times" in text and "8.5/10" in text and "26 months" in text
    for text in every_phrasing(Case("", ctx("rediscover", last_progress=0.4))):
        assert "40%" in text
    for text in every_phrasing(Case("", ctx("rediscover", times_finished=2))):
        assert "twice" in text


def test_grab_names_the_related_title_and_what_the_user_did() -> None:
    seen = every_phrasing(Case("", ctx("grab", related_to=("Arrival",)), [ARRIVAL]))
    assert len(seen) == len(TEMPLATES["grab_related_seen"])
    assert all("Arrival" in t and "finished" in t for t in seen)
    for text in every_phrasing(Case("", ctx("grab", related_to=("Arrival", "Heat")))):
        assert "Arrival and Heat" in text
    for text in every_phrasing(Case("", ctx("grab", related_to=("Heat",), trending=True))):
        assert "Heat" in text and "trending" in text.lower()


def test_cold_names_the_quiz_titles_and_genres() -> None:
    for text in every_phrasing(Case("", ctx("cold", quiz_liked=("Arrival", "Heat")))):
        assert "Arrival and Heat" in text
    picked = Case("", ctx("cold", quiz_genres=("Drama",)), [], {"popularity": 2.0})
    for text in every_phrasing(picked):
        assert "drama" in text and "science fiction" not in text


def test_group_is_one_short_clause_per_person() -> None:
    case = Case("", ctx("group", member="Maya"), [HEAT], NEAR)
    seen = every_phrasing(case)
    assert "Maya: more science fiction like Heat" in seen
    assert all(t.startswith("Maya: ") and "Heat" in t for t in seen)
    anonymous = run(Case("", ctx("group"), [HEAT], NEAR), retitled(1)[0])
    assert anonymous[0].isupper() and ":" not in anonymous


def test_collaborative_names_nobody() -> None:
    case = Case("", ctx("tonight"), [ARRIVAL, HEAT], {"collaborative": 3.0, **NEAR})
    seen = every_phrasing(case)
    assert seen == set(TEMPLATES["collaborative"])
    assert "Popular with viewers on this server whose taste overlaps yours." in seen


def test_quality_and_allowed() -> None:
    for text in every_phrasing(Case("", ctx("tonight"), [], {"quality": 8.13})):
        assert "8.1/10" in text
    allowed = Case("", ctx("tonight", allowed_by_user=True), [ARRIVAL], {"person_affinity": 1})
    for text in every_phrasing(allowed):
        assert text.startswith(TEMPLATES["allowed"]) and "Denis Villeneuve" in text


def test_tonight_varies_across_a_list_but_is_stable_for_a_pick() -> None:
    case = Case("", ctx("tonight"), [ARRIVAL, HEAT], {"person_affinity": 0.9})
    seen = every_phrasing(case)
    assert len(seen) == len(TEMPLATES["person_director"])
    assert run(case) == run(case)
    assert all("Denis Villeneuve" in t and "finished Arrival" in t for t in seen)


def test_explain_pick_keeps_its_canonical_phrasing() -> None:
    text = explain_pick(DUNE, [ARRIVAL, HEAT], {}, PROFILE)
    assert text == "Directed by Denis Villeneuve: you finished Arrival."
    rated = Influence(4, "Heat", 0.6, True, False, rating=9.0)
    text = explain_pick(DUNE, [rated], {}, NO_GENRES)
    assert text == "Because you rated Heat 9/10."


def test_people_the_pick_does_not_have_are_never_named() -> None:
    stray = Influence(5, "Heat", 0.6, True, False, shared_people=("Al Pacino",))
    text = explain_pick(DUNE, [stray], {"person_affinity": 1.0}, PROFILE)
    assert "Pacino" not in text
    assert "Pacino" not in run(Case("", ctx("tonight"), [stray], {"person_affinity": 1.0}))


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown mode"):
        run(Case("", ctx("later")))


# --- the dominant-signal rule -----------------------------------------------------------------


def test_a_boost_wins_outright_title_first() -> None:
    everything = {"boost_genre": 1.0, "boost_title": 0.5, "person_affinity": 1.0}
    assert dominant_signal(everything, person=True) == "boost_title"
    assert dominant_signal({"boost_genre": 1.0, "boost_person": 1.0}) == "boost_person"
    assert dominant_signal({"boost_genre": 0.2, "quality": 10.0}) == "boost_genre"
    assert dominant_signal({"boost_genre": 0.0, "quality": 10.0}) == "quality"


def test_families_without_something_to_name_cannot_win() -> None:
    signals = {"person_affinity": 1.0, "neighbor_similarity": 0.9, "genre_affinity": 0.9}
    assert dominant_signal(signals) == "content"
    assert dominant_signal(signals, genres=True) == "genre"
    assert dominant_signal(signals, neighbours=True, genres=True) == "neighbours"
    assert dominant_signal(signals, person=True, neighbours=True, genres=True) == "person"


def test_the_strongest_scaled_signal_wins() -> None:
    # collaborative 1.5 sd -> 0.5 beats a 0.4 neighbour; 0.9 sd -> 0.3 does not.
    assert dominant_signal({"collaborative": 1.5, **NEAR_04}, neighbours=True) == "collaborative"
    assert dominant_signal({"collaborative": 0.9, **NEAR_04}, neighbours=True) == "neighbours"
    # quality 8.1 -> 0.525 beats genre 0.5.
    assert dominant_signal({"quality": 8.1, "genre_affinity": 0.5}, genres=True) == "quality"
    assert dominant_signal({"quality": 7.9, "genre_affinity": 0.5}, genres=True) == "genre"


def test_ties_go_to_the_family_listed_first_and_weak_signals_to_content() -> None:
    tie = {"person_affinity": 0.5, "neighbor_similarity": 0.5, "genre_affinity": 0.5}
    assert dominant_signal(tie, person=True, neighbours=True, genres=True) == "person"
    assert dominant_signal(tie, neighbours=True, genres=True) == "neighbours"
    weak = {"neighbor_similarity": 0.1, "quality": 6.4, "collaborative": -2.0}
    assert dominant_signal(weak, neighbours=True) == "content"
    assert dominant_signal({}) == "content"
    # Below 7/10 quality is not "highly rated", however little else there is to say.
    assert dominant_signal({"quality": 6.9}) == "content"
    assert dominant_signal({"quality": 7.0}) == "quality"
    # content_similarity, popularity and anti_similarity never lead a tonight explanation.
    assert dominant_signal({"content_similarity": 0.9, "popularity": 50.0}) == "content"


NEAR_04 = {"neighbor_similarity": 0.4}


# --- no invented fact: a property over random synthetic inputs ---------------------------------
# Allowed names are pseudo-words starting "Zq"; decoys (people and genres the pick does not
# have, boosts it does not match) start "Xj" and must never appear.

SYLLABLES = st.text(alphabet="bdfgklmnprstvz", min_size=2, max_size=5)
NAME = st.lists(SYLLABLES.map(lambda s: "Zq" + s), min_size=1, max_size=3).map(" ".join)
DECOY = st.lists(SYLLABLES.map(lambda s: "Xj" + s), min_size=1, max_size=2).map(" ".join)
UNIT = st.floats(0.0, 1.0)


@dataclass(frozen=True)
class Inputs:
    candidate: TitleFacts
    influences: list[Influence]
    signals: dict[str, float]
    profile: TasteProfile
    context: PickContext


@st.composite
def influences_for(draw: st.DrawFn, candidate: TitleFacts) -> list[Influence]:
    people = [*candidate.directors, *candidate.cast]
    result = []
    for index in range(draw(st.integers(0, 3))):
        shared = draw(st.lists(st.sampled_from(people), max_size=2)) if people else []
        shared += draw(st.lists(DECOY, max_size=1))
        rewatched = draw(st.booleans())
        result.append(
            Influence(
                index,
                draw(NAME),
                draw(UNIT),
                finished=rewatched or draw(st.booleans()),
                rewatched=rewatched,
                shared_people=tuple(shared),
                rating=draw(st.none() | st.floats(0.0, 10.0)),
            )
        )
    return result


SIGNAL_RANGES = {
    "collaborative": (-3.0, 5.0),
    "content_similarity": (-1.0, 1.0),
    "anti_similarity": (-1.0, 1.0),
    "genre_affinity": (0.0, 1.0),
    "person_affinity": (0.0, 1.0),
    "neighbor_similarity": (0.0, 1.0),
    "popularity": (-2.0, 50.0),
    "quality": (0.0, 10.0),
    "confidence_votes": (0.0, 1.0),
    "boost_genre": (0.0, 1.0),
    "boost_person": (0.0, 1.0),
    "boost_title": (0.0, 1.0),
}


@st.composite
def inputs(draw: st.DrawFn) -> Inputs:
    genres = tuple(draw(st.lists(SYLLABLES.map(lambda s: "Zq" + s), max_size=3, unique=True)))
    candidate = TitleFacts(
        draw(NAME),
        genres=genres,
        directors=tuple(draw(st.lists(NAME, max_size=2))),
        cast=tuple(draw(st.lists(NAME, max_size=5))),
    )
    influences = draw(influences_for(candidate))
    signals = {}
    for key, (low, high) in SIGNAL_RANGES.items():
        # Boosts are rare, so that the other families get their turn to lead.
        if draw(st.integers(0, 9)) < (1 if key.startswith("boost_") else 7):
            signals[key] = draw(st.floats(low, high))
    decoy_genres = draw(st.lists(DECOY, max_size=2))
    profile = TasteProfile(
        "movies",
        None,
        None,
        genre_weights={
            **{g: draw(st.floats(0.2, 1.0)) for g in genres},
            **dict.fromkeys(decoy_genres, 1.0),
        },
        person_weights=dict.fromkeys(draw(st.lists(DECOY, max_size=2)), 1.0),
    )
    history = [i.title for i in influences]
    own = [*genres, *candidate.directors, *candidate.cast, *history]
    some_of = st.lists(st.sampled_from(own), max_size=2) if own else st.just([])
    context = PickContext(
        mode=draw(st.sampled_from(MODES)),
        months_since_watched=draw(st.none() | st.integers(0, 240)),
        last_progress=draw(st.none() | UNIT),
        times_finished=draw(st.integers(0, 6)),
        rating=draw(st.none() | st.floats(0.0, 10.0)),
        related_to=tuple(draw(st.lists(st.sampled_from(history) if history else NAME, max_size=3))),
        trending=draw(st.booleans()),
        quiz_liked=tuple(draw(st.lists(NAME, max_size=2)) + draw(some_of)),
        quiz_genres=tuple(draw(some_of) + draw(st.lists(DECOY, max_size=1))),
        allowed_by_user=draw(st.booleans()),
        boosted=tuple(draw(some_of) + draw(st.lists(DECOY, max_size=2))),
        member=draw(st.none() | NAME),
    )
    return Inputs(candidate, influences, signals, profile, context)


def literal_words() -> set[str]:
    """Words the templates themselves contain (and their capitalized forms: a group clause
    without a member starts with a capital)."""
    words: set[str] = set()
    for _, text in phrasings():
        for literal, _, _, _ in string.Formatter().parse(text):
            words |= set(re.findall(r"[A-Za-z][\w'-]*", literal))
    return words | {w[:1].upper() + w[1:] for w in words}


LITERAL_WORDS = literal_words()


def allowed_names(given_inputs: Inputs) -> set[str]:
    """Name tokens the output may use: the pick's own facts, the user's history and quiz."""
    c, x = given_inputs.candidate, given_inputs.context
    sources = [
        *c.genres,
        *c.directors,
        *c.cast,
        *(i.title for i in given_inputs.influences),
        *x.related_to,
        *x.quiz_liked,
        *([x.member] if x.member else []),
    ]
    return {token.lower() for source in sources for token in source.split()}


def allowed_numbers(given_inputs: Inputs) -> set[str]:
    x = given_inputs.context
    numbers = {str(x.times_finished), str(x.times_finished - 1)}
    if x.months_since_watched is not None:
        numbers.add(str(x.months_since_watched))
    if x.last_progress is not None:
        numbers.add(str(round(x.last_progress * 100)))
    scores = [given_inputs.signals.get("quality"), x.rating]
    scores += [i.rating for i in given_inputs.influences]
    return numbers | {format_score(s) for s in scores if s is not None}


@settings(max_examples=500, deadline=None)
@given(inputs())
def test_no_invented_fact(given_inputs: Inputs) -> None:
    text = explain(
        given_inputs.candidate,
        given_inputs.influences,
        given_inputs.signals,
        given_inputs.profile,
        given_inputs.context,
    )
    assert text.strip() and "{" not in text and "}" not in text
    assert "xj" not in text.lower(), text
    names = allowed_names(given_inputs)
    for word in re.findall(r"[A-Za-z][\w'-]*", text):
        if word.lower().startswith("zq"):
            assert word.lower() in names, (word, text)
        elif word[0].isupper():
            assert word in LITERAL_WORDS, (word, text)
    numbers = allowed_numbers(given_inputs)
    for number in re.findall(r"\d+(?:\.\d+)?", text.replace("/10", "")):
        assert number in numbers, (number, text)
