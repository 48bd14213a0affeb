"""TMDB list entries as title facts, and the related-title follow-up rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from recommendarr.shared.domain.tmdb_lists import (
    RELATED_TO_ENRICH,
    ListedTitle,
    Recorded,
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


def test_unasked_titles_high_in_a_list_are_enriched_the_other_new_ones_embedded() -> None:
    recommended = [listed(n, n) for n in range(RELATED_TO_ENRICH + 2)]
    # 6 is low in "recommended" but first in "similar"; 100 is new but low in "similar".
    similar = [listed(6, 0), listed(100, RELATED_TO_ENRICH)]
    recorded: dict[tuple[int, str], Recorded] = {
        (0, "movie"): "asked",
        (1, "movie"): "created",
        (2, "movie"): "unasked",  # another library title's list created it, lower down
        (3, "movie"): "filled",
        (4, "movie"): "created",
        (5, "movie"): "created",
        (6, "movie"): "created",
        (100, "movie"): "created",
    }
    enrich, embed = follow_ups({"recommended": recommended, "similar": similar}, recorded)
    assert enrich == [(1, "movie"), (2, "movie"), (3, "movie"), (4, "movie"), (6, "movie")]
    assert embed == [(5, "movie"), (100, "movie")]
    # Low in the list, a title that gained facts is embedded again; one that did not is left.
    low = [listed(7, RELATED_TO_ENRICH), listed(8, RELATED_TO_ENRICH + 1)]
    assert follow_ups({"similar": low}, {(7, "movie"): "filled", (8, "movie"): "unasked"}) == (
        [],
        [(7, "movie")],
    )
    asked: dict[tuple[int, str], Recorded] = {key: "asked" for key in recorded}
    assert follow_ups({"recommended": recommended}, asked) == ([], [])


def test_which_title_created_a_related_title_does_not_decide_its_enrichment() -> None:
    """Two library titles list the same title, one low and one high: it is enriched once the
    high listing is recorded, whichever of the two is recorded first."""
    low, high = [listed(9, RELATED_TO_ENRICH + 3)], [listed(9, 0)]
    first_low = (
        follow_ups({"similar": low}, {(9, "movie"): "created"}),
        follow_ups({"similar": high}, {(9, "movie"): "unasked"}),
    )
    first_high = (
        follow_ups({"similar": high}, {(9, "movie"): "created"}),
        follow_ups({"similar": low}, {(9, "movie"): "unasked"}),
    )
    assert [enrich for pair in first_low for enrich in pair[0]] == [(9, "movie")]
    assert [enrich for pair in first_high for enrich in pair[0]] == [(9, "movie")]
