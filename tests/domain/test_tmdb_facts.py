"""TMDB details (append_to_response fixtures) as ItemFacts and extras."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from recommendarr.shared.domain.tmdb_facts import (
    MAX_KEYWORDS,
    TmdbExtras,
    TmdbShapeError,
    parse_details,
)
from tests.conftest import fixture_bytes


def details(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(fixture_bytes(f"tmdb/{name}"))
    return loaded


MOVIE = details("movie_details_append.json")
TV = details("tv_details_append.json")


def test_movie_details() -> None:
    facts, extras = parse_details("movie", 27205, MOVIE)
    assert (facts.tmdb_id, facts.media_type, facts.title, facts.year) == (
        27205,
        "movie",
        "Inception",
        2010,
    )
    assert facts.genres == ("Action", "Science Fiction", "Adventure")
    assert facts.keywords == ("loss of loved one", "dream", "heist")
    # Hans Zimmer is crew too, but not a Director.
    assert facts.directors == ("Christopher Nolan",)
    assert facts.cast == ("Leonardo DiCaprio", "Joseph Gordon-Levitt")
    assert (facts.language, facts.runtime) == ("en", 148)
    assert facts.overview is not None and facts.overview.startswith("Cobb, a skilled thief")
    assert extras == TmdbExtras(
        imdb_id="tt1375666",
        tvdb_id=None,
        collection_id=None,
        poster_path="/oYuLEt3zVCKq57qu2F8dT7NIa6f.jpg",
        vote_average=8.369,
        vote_count=37112,
        popularity=31.552,
    )


def test_tv_details() -> None:
    facts, extras = parse_details("tv", 1396, TV)
    assert (facts.title, facts.year, facts.media_type) == ("Breaking Bad", 2008, "tv")
    assert facts.genres == ("Drama", "Crime")
    # TV keywords live in keywords.results, not keywords.keywords.
    assert facts.keywords == ("drug dealer", "high school teacher")
    # A show's "directors" are its creators; its crew lists no Director.
    assert facts.directors == ("Vince Gilligan",)
    assert facts.cast == ("Bryan Cranston",)
    assert facts.runtime == 45
    assert extras.imdb_id == "tt0903747" and extras.tvdb_id == 81189
    assert extras.collection_id is None and extras.vote_count == 15000


def test_keyword_nesting_is_read_either_way() -> None:
    swapped_movie = {**MOVIE, "keywords": {"results": MOVIE["keywords"]["keywords"]}}
    swapped_tv = {**TV, "keywords": {"keywords": TV["keywords"]["results"]}}
    assert parse_details("movie", 27205, swapped_movie)[0].keywords[1] == "dream"
    assert parse_details("tv", 1396, swapped_tv)[0].keywords[0] == "drug dealer"


def test_keywords_are_capped_and_deduplicated() -> None:
    many = [{"id": i, "name": f"kw{i % 30}"} for i in range(60)]
    facts, _ = parse_details("movie", 27205, {**MOVIE, "keywords": {"keywords": many}})
    assert len(facts.keywords) == MAX_KEYWORDS
    assert facts.keywords == tuple(f"kw{i}" for i in range(MAX_KEYWORDS))


def test_cast_is_the_top_five_by_billing_order() -> None:
    cast = [
        {"name": "Seventh", "order": 7},
        {"name": "Unordered"},
        {"name": "First", "order": 0},
        {"name": "Third", "order": 2},
        {"name": "Second", "order": 1},
        {"name": None, "order": 3},
        {"name": "Fourth", "order": 4},
        {"name": "Fifth", "order": 5},
    ]
    movie = {**MOVIE, "credits": {"cast": cast, "crew": []}}
    facts, _ = parse_details("movie", 27205, movie)
    assert facts.cast == ("First", "Second", "Third", "Fourth", "Fifth")
    assert facts.directors == ()


def test_a_collection_and_external_ids_on_a_movie() -> None:
    movie = {
        **MOVIE,
        "imdb_id": None,
        "belongs_to_collection": {"id": 726871, "name": "Dune Collection", "poster_path": None},
        "external_ids": {"imdb_id": "tt15239678", "tvdb_id": None},
    }
    _, extras = parse_details("movie", 693134, movie)
    assert extras.collection_id == 726871 and extras.imdb_id == "tt15239678"


def test_nulls_and_blanks_become_empty_values() -> None:
    movie = copy.deepcopy(MOVIE)
    movie.update(
        release_date="",
        runtime=0,
        overview="",
        poster_path=None,
        original_language=None,
        genres=None,
        keywords=None,
        credits={"cast": None, "crew": [None, {"job": "Director"}]},
        imdb_id="",
        vote_average=None,
        vote_count=True,
        popularity="high",
    )
    facts, extras = parse_details("movie", 27205, movie)
    assert facts.title == "Inception"
    assert (facts.year, facts.runtime, facts.overview, facts.language) == (None, None, None, None)
    assert (facts.genres, facts.keywords, facts.directors, facts.cast) == ((), (), (), ())
    assert extras == TmdbExtras()


def test_a_bare_minimum_body() -> None:
    facts, extras = parse_details("tv", 1, {"name": "Unaired Pilot"})
    assert facts.title == "Unaired Pilot" and facts.year is None and facts.runtime is None
    assert extras == TmdbExtras()


def test_tv_runtime_falls_back_to_the_latest_episode() -> None:
    facts, _ = parse_details("tv", 1396, {**TV, "episode_run_time": []})
    assert facts.runtime == 56
    facts, _ = parse_details(
        "tv", 1396, {**TV, "episode_run_time": [], "last_episode_to_air": None}
    )
    assert facts.runtime is None


def test_the_original_title_stands_in_for_a_missing_title() -> None:
    facts, _ = parse_details("movie", 27205, {**MOVIE, "title": ""})
    assert facts.title == "Inception"


@pytest.mark.parametrize("body", [{}, {"title": None, "name": "Wrong key for a movie"}, []])
def test_no_title_is_a_shape_error(body: Any) -> None:
    with pytest.raises(TmdbShapeError):
        parse_details("movie", 27205, body)
