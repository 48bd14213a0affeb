"""Reference recommenders of the quality benchmark."""

from __future__ import annotations

import numpy as np
import pytest

from bench.quality import baselines
from bench.quality.protocol import Interactions


def _liked(n_users: int, n_items: int, seed: int) -> Interactions:
    rng = np.random.default_rng(seed)
    users, items = np.nonzero(rng.random((n_users, n_items)) < 0.3)
    return Interactions(
        users=users.astype(np.int64),
        items=items.astype(np.int64),
        ratings=rng.choice([2.0, 4.0, 5.0], size=users.size),
        timestamps=np.arange(users.size, dtype=np.float64),
        n_users=n_users,
        n_items=n_items,
    )


def test_als_fits_without_a_blas_threading_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    # implicit checks the BLAS thread pool once per process, when the model is
    # constructed; reset that flag so this test sees the check whatever ran
    # before.  The suite turns warnings into errors, so a warning fails here.
    import implicit.utils

    monkeypatch.setattr(implicit.utils, "_checked_blas_config", False)
    model = baselines.ALS(factors=4, iterations=2)

    model.fit(_liked(12, 15, seed=1))

    scores = model.score(np.arange(12))
    assert scores.shape == (12, 15)
    assert np.isfinite(scores).any()


@pytest.mark.parametrize(("n_users", "n_items"), [(10, 25), (25, 10)])
def test_ease_baseline_solvers_agree_with_the_closed_form(n_users: int, n_items: int) -> None:
    train = _liked(n_users, n_items, seed=n_users)
    model = baselines.EASE(l2=3.0)
    model.fit(train)
    liked = train.subset(train.ratings >= baselines.LIKED_MIN_RATING).matrix().toarray()
    active = np.flatnonzero(liked.sum(axis=0) > 0)
    x = liked[:, active].astype(np.float64)
    precision = np.linalg.inv(x.T @ x + 3.0 * np.eye(active.size))
    weights = np.eye(active.size) - precision / np.diag(precision)[None, :]

    scores = model.score(np.arange(n_users))

    np.testing.assert_allclose(scores[:, active], x @ weights, rtol=1e-4, atol=1e-5)
    inactive = np.setdiff1d(np.arange(n_items), active)
    assert np.all(scores[:, inactive] == -np.inf)


def test_most_popular_ranks_by_liked_count_and_ignores_dislikes() -> None:
    rows = [(0, 0, 5.0), (1, 0, 4.0), (2, 1, 4.0), (0, 2, 1.0), (1, 2, 1.0), (2, 2, 1.0)]
    table = np.array(rows)
    train = Interactions(
        users=table[:, 0].astype(np.int64),
        items=table[:, 1].astype(np.int64),
        ratings=table[:, 2],
        timestamps=np.zeros(len(rows)),
        n_users=3,
        n_items=4,
    )
    model = baselines.MostPopular()
    model.fit(train)

    scores = model.score(np.array([0]))[0]

    assert scores[0] > scores[1]
    assert scores[2] == -np.inf  # only disliked
    assert scores[3] == -np.inf  # never rated
