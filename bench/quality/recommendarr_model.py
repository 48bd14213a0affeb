"""Bench adapter for ``recommendarr.shared.domain.collaborative``.

Turns the benchmark's training interactions and item file into the plain
arrays the production module takes, and exposes the usual fit/score API.
Scoring is split into "components" (collaborative and content scores) and a
cheap "blend" so the tuner can try many blend settings without recomputing.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from bench.quality.data import ItemRows
from bench.quality.protocol import IndexSpace, Interactions
from recommendarr.shared.domain import collaborative as collab
from recommendarr.shared.domain import taste_model
from recommendarr.shared.domain.taste import Viewing, summarize_titles

_YEAR = re.compile(r"(1[89]\d\d|20\d\d)")
_NO_GENRES = "(no genres listed)"


@dataclass(frozen=True)
class RecommendarrParams:
    l2: float = collab.DEFAULT_L2
    popularity_l2: float = collab.DEFAULT_POPULARITY_L2
    weights: collab.RatingWeights = field(default_factory=collab.RatingWeights)
    blend: collab.BlendParams = field(default_factory=collab.BlendParams)
    min_supporting_users: int = taste_model.MIN_SUPPORTING_USERS
    window_days: float | None = taste_model.DEFAULT_WINDOW_DAYS

    def as_dict(self) -> dict[str, Any]:
        return {
            "l2": self.l2,
            "popularity_l2": self.popularity_l2,
            "rating_weights": asdict(self.weights),
            "blend": asdict(self.blend),
            "min_supporting_users": self.min_supporting_users,
            "history_window_days": self.window_days,
        }

    def production(self) -> taste_model.ModelParams:
        return taste_model.ModelParams(
            l2=self.l2,
            popularity_l2=self.popularity_l2,
            min_supporting_users=self.min_supporting_users,
            weights=self.weights,
            blend=self.blend,
            window_days=self.window_days,
        )


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
    """The production taste model (``recommendarr.shared.domain.taste_model``) on benchmark data.

    Every training rating becomes a viewing with an explicit rating (stars x 2, as Plex rates),
    summarised per user by ``taste.summarize_titles``, turned into interactions by
    ``taste_model.interactions_for_user``, fitted by ``taste_model.fit_server_model`` and scored
    by ``taste_model.score_rows``: the code path the ``fit_taste_model`` and ``rank_user`` actors
    run."""

    name = "recommendarr"

    def __init__(self, features: collab.ItemFeatures, params: RecommendarrParams) -> None:
        self.features = features
        self.hyper = params
        self._server: taste_model.ServerModel | None = None
        self._histories: np.ndarray | None = None

    # -- fit ---------------------------------------------------------------
    def fit(self, train: Interactions) -> None:
        self._train = train
        self._interactions = production_interactions(train)
        catalog = dict.fromkeys(range(train.n_items), collab.ItemMetadata())
        self._server = taste_model.fit_server_model(
            [i for rows in self._interactions for i in rows],
            catalog,
            self.hyper.production(),
            features=self.features,
        )
        self._histories = None

    def _history_matrix(self) -> np.ndarray:
        """Dense users x items history weights and sizes (cached; depends on params only)."""
        if self._histories is None:
            server = self._fitted()
            rows = [taste_model.history_row(server, user_rows) for user_rows in self._interactions]
            self._histories = np.stack([row for row, _ in rows])
            self._history_sizes = np.array([float(size) for _, size in rows])
        return self._histories

    def _fitted(self) -> taste_model.ServerModel:
        assert self._server is not None, "fit() first"
        return self._server

    # -- score -------------------------------------------------------------
    def score(self, users: np.ndarray) -> np.ndarray:
        """The production path: ``taste_model.score_rows``."""
        histories = self._history_matrix()[users]
        return taste_model.score_rows(self._fitted(), histories, self._history_sizes[users])

    def components(self, users: np.ndarray) -> Components:
        """The unblended parts of ``score`` (for cheap blend tuning)."""
        hybrid = self._fitted().hybrid
        histories = self._history_matrix()[users]
        return Components(
            collaborative=collab.score_item_item(hybrid.item_model, histories),
            content=collab.score_content(hybrid.features, histories),
            history_sizes=self._history_sizes[users],
        )

    def blend(self, parts: Components, blend: collab.BlendParams | None = None) -> np.ndarray:
        hybrid = self._fitted().hybrid
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
        self._server = replace(self._fitted(), params=params.production())
        self._histories = None


_INTERACTIONS: dict[int, tuple[Interactions, list[list[taste_model.Interaction]]]] = {}


def production_interactions(train: Interactions) -> list[list[taste_model.Interaction]]:
    """Per user index: their ratings as watch events with an explicit rating, summarised and
    weighted by the production code. The tuner refits one training set many times: converted
    once per set (the entry keeps the set alive, so its id is not reused)."""
    cached = _INTERACTIONS.get(id(train))
    if cached is not None and cached[0] is train:
        return cached[1]
    converted = _convert(train)
    _INTERACTIONS[id(train)] = (train, converted)
    return converted


def _convert(train: Interactions) -> list[list[taste_model.Interaction]]:
    viewings: list[list[Viewing]] = [[] for _ in range(train.n_users)]
    for user, item, rating, timestamp in zip(
        train.users.tolist(),
        train.items.tolist(),
        train.ratings.tolist(),
        train.timestamps.tolist(),
        strict=True,
    ):
        viewings[user].append(
            Viewing(
                item_id=item,
                domain="movies",
                action="rate",
                progress=None,
                rating=rating * 2.0,
                session_key=None,
                occurred_at=datetime.fromtimestamp(timestamp, UTC),
            )
        )
    return [
        taste_model.interactions_for_user(user, summarize_titles(rows))
        for user, rows in enumerate(viewings)
    ]


_PROBE_RATINGS = np.arange(0.5, 5.01, 0.5)
