"""Collaborative + content scoring for the recommendation batch job (numpy and scipy.sparse).

The model has three parts, all computed from in-memory arrays:

1. **Item-item collaborative model** (EASE, Steck 2019): a closed-form linear
   item-to-item regression fitted on a users x items matrix of implicit
   weights.  A user's scores are their weighted history times that matrix.
2. **Content model**: TF-IDF vectors over metadata tokens (genres, keywords,
   director, cast, decade, language, collection).  A user's content score
   for an item is its similarity to their weighted history profile.  It
   matters where collaborative data is thin: new users, small servers, and
   items nobody has rated yet.
3. **Blend**: per-user standardised collaborative, content and popularity
   scores are mixed with a "collaborative trust" that grows with the user's
   history length and with the amount of data on the server.

Explicit ratings become weights via ``RatingWeights``: liked ratings count
positively and more so the higher they are; disliked ratings stay out of the
item model but count a little in the user's history (having watched a film
says something about taste even when it disappointed).

Typical use in a batch job::

    model = fit_hybrid(model_weight_matrix, build_item_features(metadata))
    scores = score_hybrid(model, history_weight_matrix, history_sizes)
    # then drop items the user already has and take the top k

Defaults were chosen on a validation split carved out of the *training* part
of MovieLens ml-latest-small (see ``bench/quality``), never on test data.

Nothing here does I/O; callers pass arrays in and get arrays out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

SECONDS_PER_DAY = 86_400.0

# Ridge penalties of the item-item model, for weights on the RatingWeights
# scale (about 1-2.5 per liked item).  Chosen on validation data.
DEFAULT_L2 = 400.0
DEFAULT_POPULARITY_L2 = 1.0


# --------------------------------------------------------------------------
# Ratings -> interaction weights
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class RatingWeights:
    """How explicit star ratings (0.5-5) turn into implicit weights."""

    like_threshold: float = 3.5
    # Weight of a rating exactly at the threshold; grows linearly above it
    # so a 5-star rating counts 2.5x a 3.5-star one (with the defaults): a
    # loved film says more about taste than a merely liked one.
    like_base: float = 1.0
    like_slope: float = 1.0
    # Ratings below the threshold.  Negative weights were tried and hurt: a
    # disliked film is still evidence of what the user watches.  In the item
    # model they only add noise (0); in the history a small positive weight
    # helps users with short histories most.
    dislike_model_weight: float = 0.0
    dislike_history_weight: float = 0.2
    # Recent activity says more about current taste.  Weights of history
    # entries decay towards ``recency_floor`` with this half-life (days
    # before the user's latest interaction); 0 disables the decay.
    recency_half_life_days: float = 125.0
    recency_floor: float = 0.5


def model_weights(ratings: FloatArray, params: RatingWeights) -> FloatArray:
    """Weights used to fit the item-item model (0 = not an interaction)."""
    return _rating_curve(ratings, params, params.dislike_model_weight)


def history_weights(ratings: FloatArray, age_days: FloatArray, params: RatingWeights) -> FloatArray:
    """Weights of a user's history entries used for scoring.

    ``age_days`` is, per entry, the time between it and the user's most
    recent interaction (0 for the latest one).
    """
    base = _rating_curve(ratings, params, params.dislike_history_weight)
    return base * recency_factor(age_days, params)


def recency_factor(age_days: FloatArray, params: RatingWeights) -> FloatArray:
    """Multiplier in [floor, 1] that halves the above-floor part every half-life."""
    if params.recency_half_life_days <= 0:
        return np.ones_like(np.asarray(age_days, dtype=np.float64))
    decay = np.exp2(-np.maximum(age_days, 0.0) / params.recency_half_life_days)
    return params.recency_floor + (1.0 - params.recency_floor) * decay


def _rating_curve(ratings: FloatArray, params: RatingWeights, below: float) -> FloatArray:
    ratings = np.asarray(ratings, dtype=np.float64)
    liked = params.like_base + params.like_slope * (ratings - params.like_threshold)
    return np.where(ratings >= params.like_threshold, liked, below)


# --------------------------------------------------------------------------
# Item-item collaborative model (EASE)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemItemModel:
    """A fitted EASE model over ``n_items`` items.

    EASE's weights are ``B = I - P / diag(P)`` with ``P = (X'X + L)^-1``,
    where ``L`` is a diagonal ridge penalty.  Plain EASE uses ``L = l2 I``;
    we add ``popularity_l2 * diag(X'X)`` on top, the closed form of training
    with dropout on the input (EDLAE, Steck 2020): popular items are
    penalised more, so the model leans less on "everyone watched it"
    co-occurrences, which helps most when a user's history is short.

    Inverting the items x items matrix costs O(items^3).  When there are
    fewer users than items (the normal case on a self-hosted server) the
    Woodbury identity gives the same ``P`` from a users x users system:
    ``P = L^-1 - Y' (I + X L^-1 X')^-1 Y`` with ``Y = X L^-1``.  We keep
    either the dense ``B`` ("primal") or the factors ``X`` and
    ``(I + X L^-1 X')^-1 Y`` ("dual"), never the larger of the two.

    Items without any positive weight (``active`` False) are left out of the
    fit and score 0.
    """

    n_items: int
    active: BoolArray
    item_l2: FloatArray  # diagonal of L over active items
    primal_weights: FloatArray | None  # active x active B, or None
    dual_data: FloatArray | None  # users x active X, or None
    dual_solved: FloatArray | None  # users x active (I + X L^-1 X')^-1 X L^-1, or None
    precision_diagonal: FloatArray  # diag(P) over active items


def fit_item_item(interactions: FloatArray, l2: float, popularity_l2: float = 0.0) -> ItemItemModel:
    """Fit EASE on a users x items weight matrix (0 = no interaction).

    ``l2`` is the uniform ridge penalty; ``popularity_l2`` adds a penalty
    proportional to each item's squared interaction mass (0 = plain EASE).
    """
    if l2 <= 0 or popularity_l2 < 0:
        raise ValueError("l2 must be positive and popularity_l2 non-negative")
    matrix = np.asarray(interactions, dtype=np.float64)
    active: BoolArray = np.asarray((matrix > 0).any(axis=0), dtype=np.bool_)
    data = matrix[:, active]
    item_l2 = l2 + popularity_l2 * np.einsum("ij,ij->j", data, data)
    n_users, n_active = data.shape
    if n_users < n_active:
        return _fit_dual(matrix.shape[1], active, data, item_l2)
    return _fit_primal(matrix.shape[1], active, data, item_l2)


def _fit_primal(
    n_items: int, active: BoolArray, data: FloatArray, item_l2: FloatArray
) -> ItemItemModel:
    gram = data.T @ data
    gram[np.diag_indices_from(gram)] += item_l2
    precision = np.asarray(np.linalg.inv(gram), dtype=np.float64)
    diagonal = np.diag(precision).copy()
    weights = -precision / diagonal[None, :]
    np.fill_diagonal(weights, 0.0)  # EASE's constraint: no self-recommendation
    return ItemItemModel(
        n_items=n_items,
        active=active,
        item_l2=item_l2,
        primal_weights=weights,
        dual_data=None,
        dual_solved=None,
        precision_diagonal=diagonal,
    )


def _fit_dual(
    n_items: int, active: BoolArray, data: FloatArray, item_l2: FloatArray
) -> ItemItemModel:
    scaled = data / item_l2[None, :]  # Y = X L^-1
    kernel = scaled @ data.T  # X L^-1 X', users x users
    kernel[np.diag_indices_from(kernel)] += 1.0
    solved = np.asarray(np.linalg.solve(kernel, scaled), dtype=np.float64)
    # diag(P)_j = 1 / L_j - y_j' K^-1 y_j, with y_j the j-th column of Y.
    diagonal = 1.0 / item_l2 - np.einsum("ij,ij->j", scaled, solved)
    return ItemItemModel(
        n_items=n_items,
        active=active,
        item_l2=item_l2,
        primal_weights=None,
        dual_data=data,
        dual_solved=solved,
        precision_diagonal=diagonal,
    )


def score_item_item(model: ItemItemModel, histories: FloatArray) -> FloatArray:
    """Collaborative scores (users x n_items) for weighted history rows."""
    histories = np.atleast_2d(np.asarray(histories, dtype=np.float64))
    history = histories[:, model.active]
    if model.primal_weights is not None:
        active_scores = history @ model.primal_weights
    else:
        assert model.dual_data is not None and model.dual_solved is not None
        # h B = h - (h P) / diag(P), with h P = h L^-1 - ((h L^-1) X') K^-1 Y.
        scaled = history / model.item_l2[None, :]
        through_users = (scaled @ model.dual_data.T) @ model.dual_solved
        history_precision = scaled - through_users
        active_scores = history - history_precision / model.precision_diagonal[None, :]
    scores = np.zeros((histories.shape[0], model.n_items))
    scores[:, model.active] = active_scores
    return scores


# --------------------------------------------------------------------------
# Content model
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemMetadata:
    """Metadata of one item.  Every field is optional."""

    genres: Sequence[str] = ()
    keywords: Sequence[str] = ()
    directors: Sequence[str] = ()
    cast: Sequence[str] = ()
    year: int | None = None
    language: str | None = None
    collection: str | None = None


@dataclass(frozen=True)
class FieldWeights:
    """Relative weight of each metadata field before TF-IDF normalisation."""

    genre: float = 1.0
    keyword: float = 1.0
    director: float = 1.0
    cast: float = 1.0
    era: float = 1.0
    language: float = 1.0
    collection: float = 1.0


@dataclass(frozen=True)
class ItemFeatures:
    """Row-normalised TF-IDF item vectors in CSR layout (the arrays of a scipy csr_matrix)."""

    n_items: int
    n_features: int
    row_starts: IntArray  # length n_items + 1
    columns: IntArray
    values: FloatArray
    vocabulary: tuple[str, ...] = field(default=(), repr=False)


def item_tokens(item: ItemMetadata, weights: FieldWeights) -> dict[str, float]:
    """Weighted, namespaced tokens of one item (namespaces keep fields apart)."""
    tokens: dict[str, float] = {}

    def add(prefix: str, values: Iterable[str], weight: float) -> None:
        for value in values:
            key = value.strip().casefold()
            if key and weight > 0:
                tokens[f"{prefix}:{key}"] = weight

    add("genre", item.genres, weights.genre)
    add("keyword", item.keywords, weights.keyword)
    add("director", item.directors, weights.director)
    add("cast", item.cast, weights.cast)
    if item.year is not None:
        # Two overlapping era granularities: "1990s" links a whole decade,
        # "1995-1999" links films closer in time more strongly.
        add("decade", [str(item.year // 10 * 10)], weights.era)
        add("lustrum", [str(item.year // 5 * 5)], weights.era)
    if item.language:
        add("language", [item.language], weights.language)
    if item.collection:
        add("collection", [item.collection], weights.collection)
    return tokens


def build_item_features(
    items: Sequence[ItemMetadata],
    weights: FieldWeights | None = None,
    min_items_per_token: int = 2,
) -> ItemFeatures:
    """TF-IDF vectors; tokens shared by fewer than ``min_items_per_token`` items
    are dropped because they cannot make two items similar anyway."""
    weights = weights or FieldWeights()
    per_item = [item_tokens(item, weights) for item in items]
    counts: dict[str, int] = {}
    for tokens in per_item:
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
    vocabulary = sorted(t for t, c in counts.items() if c >= min_items_per_token)
    column_of = {token: column for column, token in enumerate(vocabulary)}
    n_items = len(items)
    idf = {t: math.log((n_items + 1) / (counts[t] + 1)) + 1.0 for t in vocabulary}
    row_starts = [0]
    columns: list[int] = []
    values: list[float] = []
    for tokens in per_item:
        kept = sorted((column_of[t], w * idf[t]) for t, w in tokens.items() if t in column_of)
        norm = math.sqrt(sum(v * v for _, v in kept)) or 1.0
        columns.extend(c for c, _ in kept)
        values.extend(v / norm for _, v in kept)
        row_starts.append(len(columns))
    return ItemFeatures(
        n_items=n_items,
        n_features=len(vocabulary),
        row_starts=np.asarray(row_starts, dtype=np.int64),
        columns=np.asarray(columns, dtype=np.int64),
        values=np.asarray(values, dtype=np.float64),
        vocabulary=tuple(vocabulary),
    )


def score_content(features: ItemFeatures, histories: FloatArray) -> FloatArray:
    """Similarity of every item to each user's weighted metadata profile.

    profile = sum_i w_i f_i and score_j = f_j . profile: two sparse products over the CSR
    arrays, so the items x items similarity matrix is never built (scipy's loops over the
    non-zeros took a third of the time of gathering them with numpy). Users are processed in
    small batches to bound the users x features temporaries.
    """
    histories = np.atleast_2d(np.asarray(histories, dtype=np.float64))
    scores = np.zeros((histories.shape[0], features.n_items))
    if features.values.size == 0:
        return scores
    matrix = sp.csr_matrix(
        (features.values, features.columns, features.row_starts),
        shape=(features.n_items, features.n_features),
    )
    for start in range(0, histories.shape[0], CONTENT_USER_BATCH):
        batch = slice(start, start + CONTENT_USER_BATCH)
        profiles = matrix.T @ histories[batch].T  # features x users
        scores[batch] = (matrix @ profiles).T
    return scores


CONTENT_USER_BATCH = 32


# --------------------------------------------------------------------------
# Blending
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class BlendParams:
    """How much to trust collaborative scores versus content and popularity."""

    # A user with this many interactions gets half the collaborative trust
    # a user with a very long history would get.
    user_history_half: float = 10.0
    # Same idea for the whole server: with this many interactions in total
    # the item-item model is only half trusted.  On a new/small server the
    # co-occurrence statistics are mostly noise, so content must lead.
    server_interactions_half: float = 2_000.0
    # Scale of content / popularity scores relative to collaborative ones,
    # applied to the part of the trust that the collaborative model lacks.
    content_weight: float = 1.5
    popularity_weight: float = 0.1


def collaborative_trust(
    user_interactions: FloatArray, server_interactions: float, params: BlendParams
) -> FloatArray:
    """In [0, 1): grows with the user's and the server's amount of data."""
    user = np.asarray(user_interactions, dtype=np.float64)
    user_part = user / (user + params.user_history_half)
    server_part = server_interactions / (server_interactions + params.server_interactions_half)
    return user_part * server_part


def item_popularity(interactions: FloatArray) -> FloatArray:
    """log(1 + number of users with a positive weight) per item."""
    positive = (np.asarray(interactions) > 0).sum(axis=0)
    popularity: FloatArray = np.log1p(positive.astype(np.float64))
    return popularity


def blend_scores(
    collaborative: FloatArray,
    content: FloatArray,
    popularity: FloatArray,
    user_interactions: FloatArray,
    server_interactions: float,
    params: BlendParams,
) -> FloatArray:
    """Mix per-user standardised scores according to collaborative trust.

    Standardising each user's score row (zero mean, unit variance over the
    items) puts the three signals on one scale whatever their raw units.
    ``collaborative + (1 - trust) * (content_weight * content +
    popularity_weight * popularity)``: the collaborative part keeps weight 1
    (with no history it is all zeros anyway) and the side signals fade as
    trust grows.
    """
    trust = collaborative_trust(user_interactions, server_interactions, params)
    side = (1.0 - trust)[:, None]
    # Popularity is the same for everyone: standardise it once, broadcast.
    popularity_row = standardize_rows(np.atleast_2d(popularity))
    blended: FloatArray = (
        standardize_rows(collaborative)
        + side * params.content_weight * standardize_rows(content)
        + side * params.popularity_weight * popularity_row
    )
    return blended


def standardize_rows(scores: FloatArray) -> FloatArray:
    """Zero-mean, unit-variance rows; constant rows become all zeros."""
    scores = np.asarray(scores, dtype=np.float64)
    centered = scores - scores.mean(axis=1, keepdims=True)
    spread = centered.std(axis=1, keepdims=True)
    standardized: FloatArray = np.divide(
        centered, spread, out=np.zeros_like(centered), where=spread > 0
    )
    return standardized


# --------------------------------------------------------------------------
# Everything together
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class HybridModel:
    """What a batch run needs to score any user of the server."""

    item_model: ItemItemModel
    features: ItemFeatures
    popularity: FloatArray
    server_interactions: float


def fit_hybrid(
    interactions: FloatArray,
    features: ItemFeatures,
    l2: float = DEFAULT_L2,
    popularity_l2: float = DEFAULT_POPULARITY_L2,
) -> HybridModel:
    """Fit on a users x items matrix of ``model_weights`` (0 = no interaction)."""
    matrix = np.asarray(interactions, dtype=np.float64)
    if features.n_items != matrix.shape[1]:
        raise ValueError("features and interactions disagree on the number of items")
    return HybridModel(
        item_model=fit_item_item(matrix, l2, popularity_l2),
        features=features,
        popularity=item_popularity(matrix),
        server_interactions=float(np.count_nonzero(matrix)),
    )


def score_hybrid(
    model: HybridModel,
    histories: FloatArray,
    history_sizes: FloatArray,
    params: BlendParams | None = None,
) -> FloatArray:
    """Blended scores (users x items) for rows of ``history_weights``.

    ``history_sizes`` is each user's number of rated items (the blend trusts
    collaborative scores more for longer histories).
    """
    return blend_scores(
        score_item_item(model.item_model, histories),
        score_content(model.features, histories),
        model.popularity,
        history_sizes,
        model.server_interactions,
        params or BlendParams(),
    )
