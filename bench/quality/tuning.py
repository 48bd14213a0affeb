"""Hyperparameter selection on a validation split carved from TRAINING data.

The validation split applies the test protocol again inside the training
set: per user with 5+ training ratings, the latest ceil(20 %) of the
*training* ratings are held out.  Test ratings are never looked at.

Every model (baselines included) is selected with the same objective: the
mean of validation NDCG@10 for users with their full (validation-)training
history and for simulated-cold users (5 seeded folds of validation users cut
to their 10 most recent ratings, model refit per fold).  Using one objective
for everyone keeps the cold comparison fair: baselines get the same chance to
pick a regularisation that suits thin histories.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from bench.quality import metrics
from bench.quality.baselines import Recommender
from bench.quality.protocol import (
    COLD_HISTORY,
    EvalTask,
    Interactions,
    build_task,
    cold_folds,
    keep_most_recent,
    temporal_split,
)
from bench.quality.recommendarr_model import Components, RecommendarrModel, RecommendarrParams
from recommendarr.shared.domain import collaborative as collab

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scenario:
    """One (training data, evaluation task) pair."""

    train: Interactions
    task: EvalTask


@dataclass(frozen=True)
class Validation:
    warm: Scenario
    cold: tuple[Scenario, ...]

    @property
    def scenarios(self) -> tuple[Scenario, ...]:
        return (self.warm, *self.cold)


def build_validation(train: Interactions, catalog_items: np.ndarray, seed: int) -> Validation:
    fit_part, held_out = temporal_split(train)
    task = build_task(fit_part, held_out, catalog_items)
    cold = tuple(
        Scenario(keep_most_recent(fit_part, fold, COLD_HISTORY), task.restricted_to(fold))
        for fold in cold_folds(task.users, seed)
    )
    return Validation(warm=Scenario(fit_part, task), cold=cold)


@dataclass
class Trial:
    params: dict[str, Any]
    warm: float
    cold: float

    @property
    def objective(self) -> float:
        return (self.warm + self.cold) / 2.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "val_ndcg@10": round(self.warm, 5),
            "val_cold_ndcg@10": round(self.cold, 5),
            "objective": round(self.objective, 5),
        }


def _pooled_ndcg(parts: Sequence[np.ndarray]) -> float:
    values = np.concatenate(parts) if parts else np.zeros(0)
    return float(values.mean()) if values.size else 0.0


def evaluate_on_validation(model: Recommender, validation: Validation) -> Trial:
    model.fit(validation.warm.train)
    warm = metrics.evaluate(model.score, validation.warm.task).ndcg
    cold_parts = []
    for scenario in validation.cold:
        model.fit(scenario.train)
        cold_parts.append(metrics.evaluate(model.score, scenario.task).ndcg)
    return Trial(model.params(), _pooled_ndcg([warm]), _pooled_ndcg(cold_parts))


def select_baseline(
    factory: Callable[..., Recommender],
    grid: dict[str, Sequence[Any]],
    validation: Validation,
) -> tuple[dict[str, Any], list[Trial]]:
    """Exhaustive grid search; returns the winning constructor kwargs."""
    best: tuple[float, dict[str, Any]] | None = None
    trials = []
    for kwargs in _grid(grid):
        started = time.perf_counter()
        trial = evaluate_on_validation(factory(**kwargs), validation)
        trials.append(trial)
        log.info(
            "  %s %s -> warm %.4f cold %.4f (%.1fs)",
            factory.__name__,
            kwargs,
            trial.warm,
            trial.cold,
            time.perf_counter() - started,
        )
        if best is None or trial.objective > best[0]:
            best = (trial.objective, kwargs)
    assert best is not None
    return best[1], trials


def _grid(grid: dict[str, Sequence[Any]]) -> Iterable[dict[str, Any]]:
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        yield dict(zip(keys, values, strict=True))


# --------------------------------------------------------------------------
# recommendarr: staged search (fit params, then history weights, then blend)
# --------------------------------------------------------------------------

# Neutral starting point for the parameters a stage does not search yet.
SEARCH_START = RecommendarrParams(
    l2=400.0,
    popularity_l2=0.0,
    weights=collab.RatingWeights(
        like_slope=0.5, dislike_history_weight=0.0, recency_half_life_days=0.0
    ),
    blend=collab.BlendParams(user_history_half=20.0, content_weight=0.5, popularity_weight=0.1),
)

RECOMMENDARR_FIT_GRID: dict[str, Sequence[float]] = {
    "l2": (200.0, 400.0, 800.0),
    "popularity_l2": (0.0, 0.5, 1.0, 2.0),
    "like_slope": (0.5, 1.0),
}
RECOMMENDARR_HISTORY_GRID: dict[str, Sequence[float]] = {
    "dislike_history_weight": (0.0, 0.2, 0.4),
    "recency_half_life_days": (0.0, 125.0, 500.0),
}
RECOMMENDARR_BLEND_GRID: dict[str, Sequence[float]] = {
    "user_history_half": (10.0, 20.0, 40.0),
    "content_weight": (0.0, 0.5, 1.0, 1.5, 2.0),
    "popularity_weight": (0.0, 0.1, 0.3),
}


def select_recommendarr(
    base: RecommendarrModel, validation: Validation
) -> tuple[RecommendarrParams, list[Trial]]:
    """Coordinate-wise search: each stage keeps the previous stages' winners.

    Stage 1 refits per configuration; stages 2-3 only rescore the six fitted
    validation models, which is what makes the larger grids affordable.  The
    search starts from the fixed ``SEARCH_START`` (not the module defaults),
    so changing the defaults cannot change what the search finds.
    """
    trials: list[Trial] = []
    params = SEARCH_START
    best_fit: tuple[float, list[RecommendarrModel]] | None = None
    for values in _grid(RECOMMENDARR_FIT_GRID):
        candidate = replace(
            params,
            l2=values["l2"],
            popularity_l2=values["popularity_l2"],
            weights=replace(params.weights, like_slope=values["like_slope"]),
        )
        models = [RecommendarrModel(base.features, candidate) for _ in validation.scenarios]
        for model, scenario in zip(models, validation.scenarios, strict=True):
            model.fit(scenario.train)
        trial = _score_fitted(models, validation, candidate)
        trials.append(trial)
        log.info("  recommendarr fit %s -> warm %.4f cold %.4f", values, trial.warm, trial.cold)
        if best_fit is None or trial.objective > best_fit[0]:
            best_fit = (trial.objective, models)
    assert best_fit is not None
    models = best_fit[1]
    params = models[0].hyper

    best_history = (-1.0, params)
    for values in _grid(RECOMMENDARR_HISTORY_GRID):
        candidate = replace(params, weights=replace(params.weights, **values))
        trial = _score_fitted(models, validation, candidate)
        trials.append(trial)
        log.info("  recommendarr history %s -> warm %.4f cold %.4f", values, trial.warm, trial.cold)
        if trial.objective > best_history[0]:
            best_history = (trial.objective, candidate)
    params = best_history[1]

    for model in models:
        model.rescore_with(params)
    parts = [
        _components(model, scenario.task)
        for model, scenario in zip(models, validation.scenarios, strict=True)
    ]
    best_blend = (-1.0, params)
    for values in _grid(RECOMMENDARR_BLEND_GRID):
        candidate = replace(params, blend=replace(params.blend, **values))
        trial = _blend_trial(models, parts, validation, candidate)
        trials.append(trial)
        if trial.objective > best_blend[0]:
            best_blend = (trial.objective, candidate)
    log.info("  recommendarr blend -> %s", best_blend[1].blend)
    return best_blend[1], trials


def _score_fitted(
    models: list[RecommendarrModel], validation: Validation, params: RecommendarrParams
) -> Trial:
    ndcgs = []
    for model, scenario in zip(models, validation.scenarios, strict=True):
        model.rescore_with(params)
        ndcgs.append(metrics.evaluate(model.score, scenario.task).ndcg)
    return Trial(params.as_dict(), _pooled_ndcg(ndcgs[:1]), _pooled_ndcg(ndcgs[1:]))


def _components(model: RecommendarrModel, task: EvalTask) -> tuple[np.ndarray, Components]:
    return task.users, model.components(task.users)


def _blend_trial(
    models: list[RecommendarrModel],
    parts: list[tuple[np.ndarray, Components]],
    validation: Validation,
    params: RecommendarrParams,
) -> Trial:
    ndcgs = []
    for model, (users, components), scenario in zip(
        models, parts, validation.scenarios, strict=True
    ):
        blended = model.blend(components, params.blend)
        row_of = {int(u): i for i, u in enumerate(users)}

        def score(
            batch: np.ndarray, blended: np.ndarray = blended, row_of: dict[int, int] = row_of
        ) -> np.ndarray:
            return blended[[row_of[int(u)] for u in batch]]

        ndcgs.append(metrics.evaluate(score, scenario.task).ndcg)
    return Trial(params.as_dict(), _pooled_ndcg(ndcgs[:1]), _pooled_ndcg(ndcgs[1:]))
