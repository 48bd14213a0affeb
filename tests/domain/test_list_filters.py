from __future__ import annotations

import pytest

from recommendarr.shared.domain.list_filters import (
    NO_FILTERS,
    InvalidFilterError,
    ListFilters,
    TitleKey,
    parse_filters,
)


def test_nothing_given_is_no_filters() -> None:
    assert parse_filters({}) == NO_FILTERS
    assert parse_filters({"genres": " , ", "language": "", "year_min": " "}) == NO_FILTERS
    assert NO_FILTERS.active() == ()


def test_values_are_normalized() -> None:
    filters = parse_filters(
        {
            "library": "3",
            "genres": "Science Fiction, comedy,COMEDY",
            "exclude_genres": "Horror",
            "year_min": "1990",
            "year_max": "1990",
            "language": "FR",
            "min_confidence": "medium",
            "influenced_by": "movie:603",
            "exclude_influence": "tv:1396",
        }
    )
    assert filters == ListFilters(
        library=3,
        genres=("science fiction", "comedy"),
        exclude_genres=("horror",),
        year_min=1990,
        year_max=1990,
        language="fr",
        min_confidence="medium",
        influenced_by=TitleKey("movie", 603),
        exclude_influence=TitleKey("tv", 1396),
    )
    assert filters.active() == (
        "library",
        "genres",
        "exclude_genres",
        "year_min",
        "year_max",
        "language",
        "min_confidence",
        "influenced_by",
        "exclude_influence",
    )
    assert filters.confidences() == ["medium", "high"]
    assert NO_FILTERS.confidences() == ["low", "medium", "high"]
    assert str(filters.influenced_by) == "movie:603"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("library", "-1"),
        ("year_min", "²"),
        ("language", "fra"),
        ("min_confidence", "HIGH"),
        ("influenced_by", "movie:2147483648"),
        ("influenced_by", "movie:603x"),
        ("genres", "Drama,\x00"),
    ],
)
def test_a_bad_value_names_its_parameter(name: str, value: str) -> None:
    with pytest.raises(InvalidFilterError, match=f"'{name}'") as raised:
        parse_filters({name: value})
    assert raised.value.name == name
