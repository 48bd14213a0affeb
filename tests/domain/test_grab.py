"""Grab mode's weighing: which titles are seeds, how strongly each relation points, how a
candidate's relations add up, and what its related_to says."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from recommendarr.shared.domain.grab import (
    Links,
    RelatedTo,
    TitleRelations,
    candidate_pool,
    relation_strengths,
    seed_weights,
    seeds_of,
)
from recommendarr.shared.domain.taste import TitleFacts, TitleHistory

NOW = datetime(2025, 3, 1, tzinfo=UTC)


def title(
    item_id: int, progress: float, completions: int = 0, rating: float | None = None
) -> TitleHistory:
    return TitleHistory(item_id, "movies", progress, completions, False, rating, NOW)


def strength(progress: float, rating: float | None, kind: str, position: int) -> float:
    weight = seed_weights(np.array([progress]), np.array([np.nan if rating is None else rating]))
    return float(relation_strengths(weight, np.array([kind == "similar"]), np.array([position]))[0])


def relations(*entries: tuple[int, str, int]) -> TitleRelations:
    return TitleRelations.of(
        np.array([e[0] for e in entries], dtype=np.int64),
        np.array([e[1] == "similar" for e in entries]),
        np.array([e[2] for e in entries], dtype=np.int64),
    )


def test_relation_strength_follows_liking_kind_and_place() -> None:
    assert strength(1.0, None, "recommended", 0) == pytest.approx(1.0)
    assert strength(0.6, 9.0, "recommended", 0) == pytest.approx(0.9)
    assert strength(1.0, None, "similar", 0) == pytest.approx(0.8)
    assert strength(1.0, None, "recommended", 10) == pytest.approx(0.5)
    assert strength(0.5, None, "recommended", 0) < strength(0.9, None, "recommended", 0)


def test_seeds_are_titles_liked_by_progress_or_by_their_latest_rating() -> None:
    seeds = seeds_of(
        [
            title(1, 0.95, completions=1),
            title(2, 0.0, completions=1),  # marked watched without a position: seen to the end
            title(3, 0.6),
            title(4, 0.3),  # stopped early, not rated
            title(5, 0.0, rating=8.0),  # rated well without playing it here
            title(6, 1.0, completions=1, rating=3.0),  # finished, but the rating says no
        ]
    )
    assert seeds.item_ids.tolist() == [1, 2, 3, 5]
    assert seeds.weights.tolist() == pytest.approx([1.0, 1.0, 0.6 / 0.85, 0.8])
    assert seeds_of([]).item_ids.tolist() == []


def test_each_related_title_keeps_its_stronger_relation() -> None:
    listed = relations((7, "similar", 0), (7, "recommended", 1), (8, "similar", 3))
    assert listed.related.tolist() == [7, 8]
    assert listed.similar.tolist() == [False, True]
    assert listed.positions.tolist() == [1, 3]


def pool_of(titles: list[TitleHistory], by_seed: dict[int, TitleRelations]) -> Links:
    return Links.of(seeds_of(titles), by_seed)


def test_priority_adds_up_seeds_and_trending() -> None:
    links = pool_of(
        [title(1, 1.0, completions=1), title(2, 1.0, completions=1)],
        {
            1: relations((10, "recommended", 0), (11, "similar", 0)),
            2: relations((11, "similar", 0)),
        },
    )
    pool = candidate_pool(links, np.array([12, 10]), np.array([0, 1]))
    # 10: one seed (1.0) + trending 2nd (0.5 / 1.1); 11: two seeds at 0.8; 12: trending first.
    assert pool.item_ids.tolist() == [11, 10, 12]
    assert pool.priorities.tolist() == pytest.approx([1.6, 1.0 + 0.5 / 1.1, 0.5])
    assert pool.trending_positions.tolist() == [-1, 1, 0]


def test_equal_priorities_rank_by_item_id() -> None:
    links = pool_of([title(1, 1.0, completions=1)], {1: relations((30, "similar", 0))})
    pool = candidate_pool(links, np.array([20]), np.array([0]))
    assert pool.priorities.tolist() == pytest.approx([0.8, 0.5])
    pool = candidate_pool(links.where(np.zeros(1, dtype=bool)), np.array([9, 3]), np.array([0, 0]))
    assert pool.item_ids.tolist() == [3, 9]


def test_related_to_is_one_entry_per_seed_strongest_first_then_by_title() -> None:
    titles = [title(1, 1.0, completions=1), title(2, 0.6), title(3, 1.0, completions=1)]
    links = pool_of(
        titles,
        {
            1: relations((10, "similar", 0), (10, "recommended", 2)),
            2: relations((10, "recommended", 0)),
            3: relations((10, "recommended", 2)),
        },
    )
    facts = {
        1: TitleFacts("Zodiac", tmdb_id=101, media_type="movie"),
        2: TitleFacts("Alien", tmdb_id=102, media_type="movie"),
        3: TitleFacts("Heat", tmdb_id=103, media_type="movie"),
    }
    related_to = RelatedTo(links, seeds_of(titles), facts)
    entries = related_to.of(10)
    # Zodiac and Heat tie (recommended, 3rd place): by title. Alien was only 60% seen.
    assert [(e.title, e.kind, e.position) for e in entries] == [
        ("Heat", "recommended", 2),
        ("Zodiac", "recommended", 2),
        ("Alien", "recommended", 0),
    ]
    assert entries[0].finished and not entries[2].finished and entries[2].rating is None
    assert entries[0].strength == pytest.approx(1 / 1.2)
    assert related_to.titles(10, 2) == ("Heat", "Zodiac")
    assert related_to.of(11) == () and related_to.titles(11, 2) == ()
