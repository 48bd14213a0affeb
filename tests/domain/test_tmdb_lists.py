"""TMDB list entries as title facts, and the related-title follow-up rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from recommendarr.shared.domain.tmdb_lists import (
    RELATED_TO_ENRICH,
    ListedTitle,
    follow_ups,
    genre_names,
    parse_entry,
    parse_list,
    related_lists,
)
from tests.conftest import fixture_bytes


def tmdb(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(fixture_bytes(f"tmdb/{name}"))
    return body


def test_trending_movies_become_facts_with_named_genres() -> None:
    dune, dark_knight = parse_list(tmdb("trending_movie_week.json"), "movie")
    assert dune == ListedTitle(
        tmdb_id=693134,
        media_type="movie",
        title="Dune: Part Two",
        position=0,
        year=2024,
        genres=("Science Fiction", "Adventure"),
        language="en",
        overview=dune.overview,
        poster_path="/1pdfLvkbY9ohJlCjQH2CZjjYVvJ.jpg",
        vote_average=8.147,
        vote_count=6421,
        popularity=512.306,
    )
    assert dune.overview and dark_knight.position == 1


def test_tv_entries_use_names_and_the_tv_genre_table() -> None:
    sweet_tooth, last_of_us, _ = parse_list(tmdb("trending_tv_week.json"), "tv")
    assert (sweet_tooth.title, sweet_tooth.year, sweet_tooth.media_type) == (
        "Sweet Tooth",
        2021,
        "tv",
    )
    assert last_of_us.genres == ("Drama", "Action & Adventure", "Sci-Fi & Fantasy")


def test_the_same_id_names_a_different_genre_per_media_type() -> None:
    assert genre_names("movie", [878, 10765, 99999, "x", 878]) == ("Science Fiction",)
    assert genre_names("tv", [10765, 878]) == ("Sci-Fi & Fantasy",)


@pytest.mark.parametrize(
    "entry",
    [
        {"id": 1, "media_type": "person", "name": "Someone"},
        {"id": 1, "title": "Adult", "adult": True},
        {"title": "No id"},
        {"id": 0, "title": "Zero id"},
        {"id": 1, "title": "  ", "original_title": None},
        "not an object",
        None,
    ],
)
def test_entries_that_are_not_titles_are_skipped(entry: Any) -> None:
    assert parse_entry(entry, "movie", 0) is None


def test_a_sparse_entry_keeps_what_it_has() -> None:
    listed = parse_entry(
        {"id": 7, "original_title": "Sans titre", "release_date": "", "genre_ids": None}, "movie", 3
    )
    assert listed == ListedTitle(tmdb_id=7, media_type="movie", title="Sans titre", position=3)


def test_positions_are_tmdbs_even_when_entries_are_skipped_or_repeated() -> None:
    body = {
        "results": [
            {"id": 1, "media_type": "person", "name": "A person"},
            {"id": 2, "title": "Two"},
            {"id": 2, "title": "Two again"},
            {"id": 3, "title": "Three"},
        ]
    }
    assert [(t.tmdb_id, t.title, t.position) for t in parse_list(body, "movie")] == [
        (2, "Two", 1),
        (3, "Three", 3),
    ]
    assert parse_list({"results": "nope"}, "movie") == [] and parse_list(None, "movie") == []


def test_related_lists_come_from_the_appended_blocks() -> None:
    lists = related_lists("movie", 27205, tmdb("movie_details_append.json"))
    assert {kind: [(t.tmdb_id, t.position) for t in ts] for kind, ts in lists.items()} == {
        "recommended": [(155, 0), (157336, 1)],
        "similar": [(1124, 0)],
    }
    # `similar` entries carry no media_type: they are of the title's own type.
    assert lists["similar"][0].media_type == "movie"


def test_a_missing_block_is_absent_and_the_title_itself_is_dropped() -> None:
    details = {"recommendations": {"results": [{"id": 27205, "title": "Inception"}]}}
    assert related_lists("movie", 27205, details) == {"recommended": []}
    assert related_lists("tv", 1396, tmdb("tv_details_append.json")) == {}


def listed(tmdb_id: int, position: int) -> ListedTitle:
    return ListedTitle(tmdb_id=tmdb_id, media_type="movie", title=str(tmdb_id), position=position)


def test_only_new_titles_high_in_a_list_are_enriched_the_other_new_ones_embedded() -> None:
    recommended = [listed(n, n) for n in range(RELATED_TO_ENRICH + 2)]
    # 6 is low in "recommended" but first in "similar"; 100 is new but low in "similar".
    similar = [listed(6, 0), listed(100, RELATED_TO_ENRICH)]
    created = {(n, "movie") for n in (1, 4, 5, 6, 100)}
    enrich, embed = follow_ups({"recommended": recommended, "similar": similar}, created)
    assert enrich == [(1, "movie"), (4, "movie"), (6, "movie")]
    assert embed == [(5, "movie"), (100, "movie")]
    assert follow_ups({"recommended": recommended}, set()) == ([], [])
