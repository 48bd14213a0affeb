"""Bench adapter for ``recommendarr.shared.domain.collaborative``.

Turns the benchmark's training interactions and item file into the plain
arrays the production module takes, and exposes the usual fit/score API.
Scoring is split into "components" (collaborative and content scores) and a
cheap "blend" so the tuner can try many blend settings without recomputing.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bench.quality.data import ItemRows
from bench.quality.protocol import IndexSpace, Interactions
from recommendarr.shared.domain import collaborative as collab

_YEAR = re.compile(r"(1[89]\d\d|20\d\d)")
_NO_GENRES = "(no genres listed)"


@dataclass(frozen=True)
class RecommendarrParams:
    l2: float = collab.DEFAULT_L2
    popularity_l2: float = collab.DEFAULT_POPULARITY_L2
    weights: collab.RatingWeights = field(default_factory=collab.RatingWeights)
    blend: collab.BlendParams = field(default_factory=collab.BlendParams)

    def as_dict(self) -> dict[str, Any]:
        return {
            "l2": self.l2,
            "popularity_l2": self.popularity_l2,
            "rating_weights": asdict(self.weights),
            "blend": asdict(self.blend),
        }


@dataclass(frozen=True)
class Components:
    """Unblended per-user scores plus what the blend needs to know."""

    collaborative: np.ndarray
    content: np.ndarray
    history_sizes: np.ndarray


def item_metadata(space: IndexSpace, items: ItemRows) -> list[collab.ItemMetadata]:
    """One ``ItemMetadata`` per item index (empty for items not in the file).

    Deliberately ignores vote_average / vote_count / popularity (2025 values,
    future information); ``data.load_items`` has already dropped them.
    """
    return [_row_metadata(items.get(int(movie_id), {})) for movie_id in space.item_ids]


def _row_metadata(row: dict[str, str]) -> collab.ItemMetadata:
    def field_of(name: str) -> str:
        return row.get(name, "")

    genres = {
        g
        for g in _split(field_of("ml_genres")) + _split(field_of("tmdb_genres"))
        if g != _NO_GENRES
    }
    return collab.ItemMetadata(
        genres=sorted(genres),
        keywords=_split(field_of("keywords")),
        directors=_split(field_of("director")),
        cast=_split(field_of("top_cast")),
        year=_year(field_of("year"), field_of("release_date"), field_of("ml_title")),
        language=field_of("original_language") or None,
        collection=field_of("collection_id") or field_of("belongs_to_collection") or None,
    )


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split("|") if part.strip()]


def _year(*candidates: object) -> int | None:
    for candidate in candidates:
        match = _YEAR.search(str(candidate))
        if match:
            return int(match.group(1))
    return None


class RecommendarrModel:
    """EASE on rating-weighted interactions + TF-IDF content + popularity, blended
    by collaborative trust (see the production module for the details)."""

    name = "recommendarr"

    def __init__(self, features: collab.ItemFeatures, params: RecommendarrParams) -> None:
        self.features = features
        self.hyper = params
        self._hybrid: collab.HybridModel | None = None
        self._histories: np.ndarray | None = None

    # -- fit ---------------------------------------------------------------
    def fit(self, train: Interactions) -> None:
        weights = collab.model_weights(train.ratings, self.hyper.weights)
        self._hybrid = collab.fit_hybrid(
            _dense(train, weights), self.features, self.hyper.l2, self.hyper.popularity_l2
        )
        self._train = train
        self._history_sizes = np.bincount(train.users, minlength=train.n_users).astype(float)
        self._histories = None

    def _history_matrix(self) -> np.ndarray:
        """Dense users x items history weights (cached; depends on weights only)."""
        if self._histories is None:
            train = self._train
            latest = np.full(train.n_users, -np.inf)
            np.maximum.at(latest, train.users, train.timestamps)
            age_days = (latest[train.users] - train.timestamps) / collab.SECONDS_PER_DAY
            weights = collab.history_weights(train.ratings, age_days, self.hyper.weights)
            self._histories = _dense(train, weights)
        return self._histories

    def _fitted(self) -> collab.HybridModel:
        assert self._hybrid is not None, "fit() first"
        return self._hybrid

    # -- score -------------------------------------------------------------
    def score(self, users: np.ndarray) -> np.ndarray:
        """The production path: ``collaborative.score_hybrid``."""
        return collab.score_hybrid(
            self._fitted(),
            self._history_matrix()[users],
            self._history_sizes[users],
            self.hyper.blend,
        )

    def components(self, users: np.ndarray) -> Components:
        """The unblended parts of ``score`` (for cheap blend tuning)."""
        hybrid = self._fitted()
        histories = self._history_matrix()[users]
        return Components(
            collaborative=collab.score_item_item(hybrid.item_model, histories),
            content=collab.score_content(hybrid.features, histories),
            history_sizes=self._history_sizes[users],
        )

    def blend(self, parts: Components, blend: collab.BlendParams | None = None) -> np.ndarray:
        hybrid = self._fitted()
        return collab.blend_scores(
            parts.collaborative,
            parts.content,
            hybrid.popularity,
            parts.history_sizes,
            hybrid.server_interactions,
            blend or self.hyper.blend,
        )

    def params(self) -> dict[str, Any]:
        return self.hyper.as_dict()

    def rescore_with(self, params: RecommendarrParams) -> None:
        """Switch history/blend settings without refitting the item model.

        Only valid when the fields that shape the fit (``l2`` and the
        item-model rating curve) are unchanged.
        """
        fitted = self.hyper
        same_fit = (params.l2, params.popularity_l2) == (fitted.l2, fitted.popularity_l2) and (
            collab.model_weights(_PROBE_RATINGS, params.weights).tolist()
            == collab.model_weights(_PROBE_RATINGS, fitted.weights).tolist()
        )
        if not same_fit:
            raise ValueError("these parameters change the fit; call fit() instead")
        self.hyper = params
        self._histories = None


_PROBE_RATINGS = np.arange(0.5, 5.01, 0.5)


def _dense(train: Interactions, values: np.ndarray) -> np.ndarray:
    """users x items float64 matrix; zero weights are simply absent."""
    matrix = np.zeros((train.n_users, train.n_items))
    np.add.at(matrix, (train.users, train.items), values)
    return matrix
