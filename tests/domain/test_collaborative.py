"""The pure-numpy hybrid model: EASE, TF-IDF content scores, the blend, rating weights."""

from __future__ import annotations

import numpy as np
import pytest

from recommendarr.shared.domain import collaborative as collab
from recommendarr.shared.domain.collaborative import (
    BlendParams,
    ItemMetadata,
    RatingWeights,
)


def _random_interactions(n_users: int, n_items: int, seed: int) -> np.ndarray:
    """Sparse-ish weights on the RatingWeights scale, every item liked at least once."""
    rng = np.random.default_rng(seed)
    liked = rng.random((n_users, n_items)) < 0.3
    liked[rng.integers(0, n_users, n_items), np.arange(n_items)] = True
    return np.where(liked, rng.choice([1.0, 1.5, 2.5], size=(n_users, n_items)), 0.0)


def _reference_ease(
    interactions: np.ndarray, l2: float, popularity_l2: float, histories: np.ndarray
) -> np.ndarray:
    """Textbook EASE with a diagonal penalty, straight from the formula (all items active)."""
    penalty = l2 + popularity_l2 * (interactions**2).sum(axis=0)
    precision = np.linalg.inv(interactions.T @ interactions + np.diag(penalty))
    weights = np.eye(interactions.shape[1]) - precision / np.diag(precision)[None, :]
    scores: np.ndarray = histories @ weights
    return scores


def _solver_inputs(
    interactions: np.ndarray, l2: float, popularity_l2: float
) -> tuple[np.ndarray, np.ndarray]:
    active = np.ones(interactions.shape[1], dtype=np.bool_)
    item_l2 = l2 + popularity_l2 * (interactions**2).sum(axis=0)
    return active, item_l2


# --------------------------------------------------------------------------
# EASE
# --------------------------------------------------------------------------


def test_ease_ranks_the_co_occurring_item_first() -> None:
    # Item 0 and item 1 are liked together; item 2 is more popular but
    # liked by a disjoint crowd, item 3 is noise.
    together = [[1.0, 1.0, 0.0, 0.0]] * 8
    popular_elsewhere = [[0.0, 0.0, 1.0, 0.0]] * 12
    noise = [[0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 0.0, 1.0]]
    interactions = np.array(together + popular_elsewhere + noise)
    model = collab.fit_item_item(interactions, l2=5.0)

    scores = collab.score_item_item(model, np.array([[1.0, 0.0, 0.0, 0.0]]))[0]

    candidates = np.array([1, 2, 3])
    assert candidates[np.argmax(scores[candidates])] == 1
    assert scores[1] > scores[2]
    assert scores[1] > scores[3]


@pytest.mark.parametrize(
    ("n_users", "n_items"),
    [(12, 30), (30, 12)],
    ids=["more-items-than-users", "more-users-than-items"],
)
def test_primal_and_dual_solvers_give_the_same_scores(n_users: int, n_items: int) -> None:
    interactions = _random_interactions(n_users, n_items, seed=n_users)
    histories = _random_interactions(5, n_items, seed=99)
    active, item_l2 = _solver_inputs(interactions, l2=3.0, popularity_l2=0.5)

    primal = collab._fit_primal(n_items, active, interactions, item_l2)
    dual = collab._fit_dual(n_items, active, interactions, item_l2)
    primal_scores = collab.score_item_item(primal, histories)
    dual_scores = collab.score_item_item(dual, histories)

    assert primal.primal_weights is not None
    assert dual.primal_weights is None
    np.testing.assert_allclose(dual_scores, primal_scores, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(
        primal_scores, _reference_ease(interactions, 3.0, 0.5, histories), rtol=1e-8, atol=1e-10
    )


def test_fit_picks_the_smaller_system_and_matches_the_formula() -> None:
    wide = _random_interactions(10, 25, seed=1)
    tall = _random_interactions(25, 10, seed=2)
    wide_model = collab.fit_item_item(wide, l2=2.0, popularity_l2=1.0)
    tall_model = collab.fit_item_item(tall, l2=2.0, popularity_l2=1.0)

    assert wide_model.primal_weights is None  # 10 users < 25 items: Woodbury
    assert tall_model.primal_weights is not None
    for data, model in ((wide, wide_model), (tall, tall_model)):
        np.testing.assert_allclose(
            collab.score_item_item(model, data),
            _reference_ease(data, 2.0, 1.0, data),
            rtol=1e-8,
            atol=1e-10,
        )


@pytest.mark.parametrize(("n_users", "n_items"), [(8, 20), (20, 8)], ids=["dual", "primal"])
def test_no_item_recommends_itself(n_users: int, n_items: int) -> None:
    interactions = _random_interactions(n_users, n_items, seed=5)
    model = collab.fit_item_item(interactions, l2=1.0)
    if model.primal_weights is not None:
        np.testing.assert_array_equal(np.diag(model.primal_weights), 0.0)
    # Whatever the solver, a one-item history gives that item exactly 0:
    # the diagonal of B is constrained to zero.
    one_hot = np.eye(n_items)
    self_scores = np.diag(collab.score_item_item(model, one_hot))
    np.testing.assert_allclose(self_scores, 0.0, atol=1e-9)
    assert np.abs(collab.score_item_item(model, one_hot)).max() > 0.01


def test_owned_items_are_scored_and_left_to_the_caller_to_exclude() -> None:
    # Items 0 and 1 always come together, so for a user holding both each
    # one is strongly predicted by the other: the API does not hide them.
    interactions = np.array([[1.0, 1.0, 0.0, 0.0]] * 10 + [[0.0, 1.0, 1.0, 0.0]] * 3)
    model = collab.fit_item_item(interactions, l2=2.0)
    history = np.array([[1.0, 1.0, 0.0, 0.0]])

    scores = collab.score_item_item(model, history)[0]

    assert np.all(np.isfinite(scores))
    assert int(np.argmax(scores)) in {0, 1}
    masked = np.where(history[0] > 0, -np.inf, scores)
    assert int(np.argmax(masked)) == 2


def test_items_nobody_liked_score_zero_and_stay_out_of_the_fit() -> None:
    interactions = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    model = collab.fit_item_item(interactions, l2=1.0)

    scores = collab.score_item_item(model, np.array([[1.0, 0.0, 0.0]]))

    assert model.active.tolist() == [True, False, True]
    assert scores.shape == (1, 3)
    assert scores[0, 1] == 0.0
    assert scores[0, 2] > 0.0


def test_popularity_penalty_discounts_a_blockbuster_in_the_history() -> None:
    # 160 of 200 users like the blockbuster; 40 of them also like item A.
    # 20 others like the seed, and 8 of those like item B.  A user holding
    # both the blockbuster and the seed: plain EASE follows the larger raw
    # co-occurrence (A, 40 users), while the popularity penalty weighs each
    # history item's evidence by its own mass and prefers B (8/20 > 40/160).
    blockbuster, seed, item_a, item_b = 0, 1, 2, 3
    interactions = np.zeros((200, 4))
    interactions[:160, blockbuster] = 1.0
    interactions[:40, item_a] = 1.0
    interactions[160:180, seed] = 1.0
    interactions[160:168, item_b] = 1.0
    history = np.zeros((1, 4))
    history[0, [blockbuster, seed]] = 1.0

    def a_over_b(popularity_l2: float) -> float:
        model = collab.fit_item_item(interactions, l2=30.0, popularity_l2=popularity_l2)
        scores = collab.score_item_item(model, history)[0]
        return float(scores[item_a] / scores[item_b])

    ratios = [a_over_b(p) for p in (0.0, 0.5, 1.0, 2.0)]

    assert ratios[0] > 1.0  # l2 alone: the blockbuster's neighbour wins
    assert ratios[-1] < 1.0  # with the penalty: the seed's neighbour wins
    assert ratios == sorted(ratios, reverse=True)


def test_fit_rejects_non_positive_l2() -> None:
    interactions = np.eye(3)
    with pytest.raises(ValueError, match="l2"):
        collab.fit_item_item(interactions, l2=0.0)
    with pytest.raises(ValueError, match="popularity_l2"):
        collab.fit_item_item(interactions, l2=1.0, popularity_l2=-1.0)


# --------------------------------------------------------------------------
# Content
# --------------------------------------------------------------------------


def _catalog() -> list[ItemMetadata]:
    return [
        ItemMetadata(genres=("Crime", "Drama"), directors=("Michael Mann",), year=1995),
        ItemMetadata(genres=("Crime", "Drama"), directors=("Michael Mann",), year=2004),
        ItemMetadata(genres=("Animation", "Family"), directors=("Pete Docter",), year=2009),
        ItemMetadata(genres=("Animation", "Family"), directors=("Pete Docter",), year=2015),
        ItemMetadata(genres=("Crime",), directors=("Someone Else",), year=1971),
    ]


def test_content_ranks_a_title_sharing_director_and_genres_above_an_unrelated_one() -> None:
    features = collab.build_item_features(_catalog())
    history = np.array([[1.0, 0.0, 0.0, 0.0, 0.0]])

    scores = collab.score_content(features, history)[0]

    assert scores[1] > scores[4] > 0.0  # shares genre+director > shares a genre only
    assert scores[2] == pytest.approx(0.0)
    assert scores[3] == pytest.approx(0.0)
    assert int(np.argmax(scores[1:])) + 1 == 1


def test_content_vectors_are_unit_length_and_drop_singleton_tokens() -> None:
    features = collab.build_item_features(_catalog())

    assert "director:michael mann" in features.vocabulary
    assert "director:someone else" not in features.vocabulary  # only one item has it
    norms = np.sqrt(np.add.reduceat(features.values**2, features.row_starts[:-1]))
    np.testing.assert_allclose(norms, 1.0)


def test_content_scores_match_the_dense_computation_across_batches() -> None:
    rng = np.random.default_rng(3)
    genres = ("a", "b", "c", "d")
    catalog = [
        ItemMetadata(
            genres=tuple(rng.choice(genres, size=2, replace=False)),
            directors=(f"d{rng.integers(0, 5)}",),
            year=int(rng.integers(1970, 2020)),
        )
        for _ in range(15)
    ]
    features = collab.build_item_features(catalog)
    dense = np.zeros((features.n_items, features.n_features))
    for row in range(features.n_items):
        span = slice(features.row_starts[row], features.row_starts[row + 1])
        dense[row, features.columns[span]] = features.values[span]
    histories = rng.random((collab.CONTENT_USER_BATCH + 3, features.n_items))

    scores = collab.score_content(features, histories)

    np.testing.assert_allclose(scores, histories @ dense @ dense.T, rtol=1e-10, atol=1e-12)


def test_a_few_titles_out_of_many_score_as_the_dense_computation() -> None:
    """One user's history touches a few titles of a big catalog; users with none score zero."""
    rng = np.random.default_rng(4)
    catalog = [
        ItemMetadata(genres=(f"g{rng.integers(0, 30)}",), directors=(f"d{rng.integers(0, 40)}",))
        if n % 7
        else ItemMetadata()  # some titles have no metadata at all
        for n in range(400)
    ]
    features = collab.build_item_features(catalog)
    dense = np.zeros((features.n_items, features.n_features))
    for row in range(features.n_items):
        span = slice(features.row_starts[row], features.row_starts[row + 1])
        dense[row, features.columns[span]] = features.values[span]
    histories = np.zeros((3, features.n_items))
    histories[0, rng.choice(features.n_items, 12, replace=False)] = rng.random(12)
    histories[2, [0, 7, 8]] = [1.0, 0.5, 2.0]  # 0 and 7 have no metadata

    scores = collab.score_content(features, histories)

    np.testing.assert_allclose(scores, histories @ dense @ dense.T, rtol=1e-10, atol=1e-12)
    assert not scores[1].any()


def test_tokens_are_namespaced_case_folded_and_skip_blanks() -> None:
    item = ItemMetadata(genres=("  ", "Drama ", ""), directors=("drama",), language="EN", year=1997)

    tokens = collab.item_tokens(item, collab.FieldWeights(director=2.0))

    assert tokens == {
        "genre:drama": 1.0,
        "director:drama": 2.0,
        "language:en": 1.0,
        "decade:1990": 1.0,
        "lustrum:1995": 1.0,
    }


def test_items_without_metadata_get_zero_content_scores() -> None:
    catalog = [*_catalog(), ItemMetadata()]
    features = collab.build_item_features(catalog)

    scores = collab.score_content(features, np.ones((1, len(catalog))))

    assert scores[0, -1] == 0.0
    assert not np.isnan(scores).any()


# --------------------------------------------------------------------------
# Blend
# --------------------------------------------------------------------------


def test_content_weighs_more_for_a_short_history_than_a_long_one() -> None:
    # Collaborative scores prefer item 0, content prefers item 1.
    collaborative = np.array([[1.0, 0.5, 0.0, 0.0, 0.0]] * 2)
    content = np.array([[0.0, 1.0, 0.0, 0.0, 0.0]] * 2)
    popularity = np.zeros(5)
    history_sizes = np.array([1.0, 50.0])

    blended = collab.blend_scores(
        collaborative, content, popularity, history_sizes, 1e6, BlendParams()
    )

    newcomer, regular = blended
    assert newcomer[1] > newcomer[0]  # one item: content leads
    assert regular[0] > regular[1]  # fifty items: collaborative leads
    trust = collab.collaborative_trust(history_sizes, 1e6, BlendParams())
    assert 0.0 < trust[0] < trust[1] < 1.0


def test_a_small_server_trusts_collaborative_scores_less() -> None:
    sizes = np.array([50.0])
    small = collab.collaborative_trust(sizes, 100.0, BlendParams())
    large = collab.collaborative_trust(sizes, 100_000.0, BlendParams())
    assert small[0] < 0.1 < 0.5 < large[0]


def test_standardize_rows_handles_constant_rows() -> None:
    scores = np.array([[3.0, 3.0, 3.0], [0.0, 0.0, 0.0], [1.0, 2.0, 6.0]])

    standardized = collab.standardize_rows(scores)

    assert not np.isnan(standardized).any()
    np.testing.assert_array_equal(standardized[:2], 0.0)
    assert standardized[2].mean() == pytest.approx(0.0)
    assert standardized[2].std() == pytest.approx(1.0)
    assert list(np.argsort(standardized[2])) == [0, 1, 2]


def test_item_popularity_counts_positive_users() -> None:
    interactions = np.array([[1.0, 0.0, 0.2], [2.5, 0.0, 0.0], [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(collab.item_popularity(interactions), np.log1p([3.0, 0.0, 1.0]))


# --------------------------------------------------------------------------
# Hybrid end to end
# --------------------------------------------------------------------------


def test_hybrid_surfaces_an_unrated_title_through_its_metadata() -> None:
    # Items 0-3 have ratings; item 4 is new (nobody rated it) but shares
    # director and genres with item 0, which the newcomer rated.
    catalog = [
        *_catalog()[:4],
        ItemMetadata(genres=("Crime", "Drama"), directors=("Michael Mann",)),
    ]
    interactions = np.array([[1.0, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0, 0.0]] * 5)
    model = collab.fit_hybrid(interactions, collab.build_item_features(catalog), l2=1.0)
    newcomer = np.array([[1.0, 0.0, 0.0, 0.0, 0.0]])

    scores = collab.score_hybrid(model, newcomer, np.array([1.0]))[0]

    assert collab.score_item_item(model.item_model, newcomer)[0, 4] == 0.0
    assert scores[4] > scores[2]
    assert scores[4] > scores[3]
    assert model.server_interactions == 20.0


def test_fit_hybrid_rejects_mismatched_features() -> None:
    features = collab.build_item_features(_catalog())
    with pytest.raises(ValueError, match="number of items"):
        collab.fit_hybrid(np.ones((3, 4)), features)


# --------------------------------------------------------------------------
# Ratings -> weights
# --------------------------------------------------------------------------


def test_model_weights_grow_above_the_threshold_and_ignore_dislikes() -> None:
    ratings = np.array([0.5, 3.0, 3.5, 4.0, 5.0])
    np.testing.assert_allclose(
        collab.model_weights(ratings, RatingWeights()), [0.0, 0.0, 1.0, 1.5, 2.5]
    )


def test_history_weights_keep_dislikes_small_and_decay_with_age() -> None:
    params = RatingWeights(recency_half_life_days=100.0, recency_floor=0.5)
    ratings = np.array([5.0, 5.0, 5.0, 2.0])
    age_days = np.array([0.0, 100.0, 10_000.0, 0.0])

    weights = collab.history_weights(ratings, age_days, params)

    np.testing.assert_allclose(weights[:2], [2.5, 2.5 * 0.75])
    assert weights[2] == pytest.approx(2.5 * 0.5, rel=1e-6)  # never below the floor
    assert weights[3] == pytest.approx(params.dislike_history_weight)


def test_recency_decay_can_be_switched_off() -> None:
    params = RatingWeights(recency_half_life_days=0.0)
    np.testing.assert_array_equal(collab.recency_factor(np.array([0.0, 1e6]), params), [1.0, 1.0])


def test_an_empty_server_scores_everything_zero_without_nans() -> None:
    features = collab.build_item_features([ItemMetadata()] * 4)
    model = collab.fit_hybrid(np.zeros((3, 4)), features)

    scores = collab.score_hybrid(model, np.zeros((2, 4)), np.zeros(2))

    np.testing.assert_array_equal(scores, 0.0)
