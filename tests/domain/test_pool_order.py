"""Choosing the best of a big pool without sorting all of it: the same answer as a full sort."""

from __future__ import annotations

import numpy as np
import pytest

from recommendarr.shared.domain.picks import pool_happiness, stable_ascending, top_positions


def pools() -> list[np.ndarray]:
    rng = np.random.default_rng(8)
    return [
        rng.normal(size=5000),
        np.round(rng.normal(size=5000), 1),  # many ties, some across the cut
        np.round(rng.normal(size=5000), 3),  # a few ties, in short runs
        np.concatenate([rng.normal(size=900), np.zeros(100), rng.normal(size=900)]),
        np.zeros(700),  # a model that knows none of the titles
        np.array([2.0, 1.0, 2.0]),
        np.zeros(0),
    ]


@pytest.mark.parametrize("scores", pools())
@pytest.mark.parametrize("count", [0, 1, 2, 300, 10_000])
def test_top_positions_are_the_head_of_a_stable_descending_sort(
    scores: np.ndarray, count: int
) -> None:
    expected = np.argsort(-scores, kind="stable")[:count]

    np.testing.assert_array_equal(top_positions(scores, count), expected)


@pytest.mark.parametrize("scores", pools())
def test_happiness_is_the_share_of_the_pool_at_or_below_a_score(scores: np.ndarray) -> None:
    """Counted the long way: the scores below it, and equal ones earlier in the pool."""
    expected = [
        ((scores < value).sum() + (scores[:n] == value).sum() + 1) / scores.size
        for n, value in enumerate(scores)
    ]

    np.testing.assert_allclose(pool_happiness(scores), expected)


@pytest.mark.parametrize("scores", pools())
def test_the_fast_ascending_order_is_the_stable_sort(scores: np.ndarray) -> None:
    np.testing.assert_array_equal(stable_ascending(scores), np.argsort(scores, kind="stable"))
