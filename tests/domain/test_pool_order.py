"""Choosing the best of a big pool without sorting all of it: the same answer as a full sort."""

from __future__ import annotations

import numpy as np
import pytest

from recommendarr.shared.domain.picks import happiness, top_positions


def pools() -> list[np.ndarray]:
    rng = np.random.default_rng(8)
    return [
        rng.normal(size=5000),
        np.round(rng.normal(size=5000), 1),  # many ties, some across the cut
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
def test_happiness_is_the_rank_of_a_stable_sort_as_a_percentile(scores: np.ndarray) -> None:
    ranks = np.empty(scores.size, dtype=np.int64)
    ranks[np.argsort(scores, kind="stable")] = np.arange(scores.size)
    positions = np.arange(scores.size)[::3]

    np.testing.assert_allclose(happiness(scores, positions), (ranks[positions] + 1) / scores.size)
