"""``python -m bench.quality``: offline quality benchmark (see ``protocol`` below)."""

from __future__ import annotations

import argparse
import json
import logging
import platform
import shlex
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np

from bench.quality import baselines, metrics, protocol, tuning
from bench.quality.data import (
    LEAKY_ITEM_COLUMNS,
    ItemRows,
    Ratings,
    load_items,
    load_ratings,
)
from bench.quality.recommendarr_model import (
    RecommendarrModel,
    RecommendarrParams,
    item_metadata,
)
from recommendarr.shared.domain import collaborative as collab

log = logging.getLogger("bench.quality")

MODEL_ORDER = ("recommendarr", "most_popular", "itemknn", "ease", "als")

BASELINE_GRIDS: dict[str, dict[str, Sequence[Any]]] = {
    "most_popular": {},
    "itemknn": {"neighbors": (25, 50, 100, 200, 0)},
    "ease": {"l2": (50.0, 100.0, 200.0, 400.0, 800.0)},
    "als": {
        "factors": (64, 128),
        "regularization": (5.0, 10.0, 20.0, 40.0),
        "alpha": (1.0, 4.0),
    },
}
BASELINE_FACTORIES: dict[str, Callable[..., baselines.Recommender]] = {
    "most_popular": baselines.MostPopular,
    "itemknn": baselines.ItemKNN,
    "ease": baselines.EASE,
    "als": baselines.ALS,
}


FIXED_DEFAULTS = (
    "fixed defaults (no search in this run); they equal the values the validation search "
    "selected on ml-latest-small"
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.quality",
        description="Offline recommendation-quality benchmark (temporal split, full ranking).",
    )
    parser.add_argument(
        "--ratings", type=Path, required=True, help="userId,movieId,rating,timestamp CSV"
    )
    parser.add_argument(
        "--items", type=Path, default=None, help="item metadata CSV keyed by movieId"
    )
    parser.add_argument("--out", type=Path, required=True, help="where to write report.json")
    parser.add_argument("--seed", type=int, default=0, help="seed for cold folds and ALS")
    parser.add_argument(
        "--models",
        default=",".join(MODEL_ORDER),
        help=f"comma-separated subset of {','.join(MODEL_ORDER)}",
    )
    parser.add_argument(
        "--no-tune",
        action="store_true",
        help="skip the validation search and use the built-in defaults, which are the values "
        "the search picked on ml-latest-small (fast; for smoke runs and other data sets "
        "the search should be run)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every tuning trial")
    args = parser.parse_args(argv)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(args.models) - set(MODEL_ORDER))
    if unknown:
        parser.error(f"unknown models: {unknown}")
    return args


@dataclass(frozen=True)
class Setup:
    space: protocol.IndexSpace
    train: protocol.Interactions
    test: protocol.Interactions
    task: protocol.EvalTask
    folds: list[np.ndarray]
    validation: tuning.Validation
    features: collab.ItemFeatures
    n_candidates: int


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
    )
    # implicit warns about BLAS threading at import even though ALS.fit limits it.
    warnings.filterwarnings("ignore", message=".*threadpool.*")
    logging.getLogger("bench.quality.tuning").setLevel(
        logging.DEBUG if args.verbose else logging.WARNING
    )
    started = time.perf_counter()
    command = _invocation(argv)

    try:
        ratings = load_ratings(args.ratings)
        items = load_items(args.items)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    setup = prepare(ratings, items, args.seed)
    if setup.task.users.size == 0:
        log.warning("no user has a relevant test item: metrics will be null")
    log.info(
        "train %d / test %d ratings; %d evaluated users; %d candidate items; validation %d users",
        len(setup.train),
        len(setup.test),
        setup.task.users.size,
        setup.n_candidates,
        setup.validation.warm.task.users.size,
    )

    results: dict[str, dict[str, Any]] = {}
    per_user: dict[str, PerUser] = {}
    for name in [m for m in MODEL_ORDER if m in args.models]:
        model_started = time.perf_counter()
        model, selection = build_model(name, setup, tune=not args.no_tune)
        tuned_at = time.perf_counter()
        result, per_user[name] = evaluate_model(model, setup)
        result["params"] = model.params()
        result["selection"] = selection
        result["seconds"] = {
            "tuning": round(tuned_at - model_started, 1),
            "evaluation": round(time.perf_counter() - tuned_at, 1),
        }
        results[name] = result
        log.info(
            "%s done: ndcg@10 %s, cold %s (%.0fs)",
            name,
            _fmt(result["ndcg@10"]),
            _fmt(result["cold"]["ndcg@10"]),
            time.perf_counter() - model_started,
        )

    comparison = (
        {"recommendarr_minus": paired_comparison(per_user, "recommendarr", args.seed)}
        if "recommendarr" in per_user
        else {}
    )
    wall = time.perf_counter() - started
    report = {
        "dataset": dataset_section(args, ratings, items, setup),
        "protocol": protocol_section(args),
        "models": results,
        "comparison": comparison,
        "run": {
            "command": command,
            "wall_time_seconds": round(wall, 1),
            "seed": args.seed,
            "tuned": not args.no_tune,
            "environment": environment(),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=_json_default) + "\n")
    print(render_table(results))
    if comparison:
        print(render_comparison(comparison["recommendarr_minus"]))
    print(f"\ncommand: {command}")
    print(f"wall time: {wall:.1f}s")
    print(f"report: {args.out}")
    return 0


def prepare(ratings: Ratings, items: ItemRows, seed: int) -> Setup:
    space, interactions = protocol.index_ratings(ratings, protocol.metadata_item_ids(items))
    catalog_items = protocol.metadata_item_indices(space, items)
    train, test = protocol.temporal_split(interactions)
    task = protocol.build_task(train, test, catalog_items)
    return Setup(
        space=space,
        train=train,
        test=test,
        task=task,
        folds=protocol.cold_folds(task.users, seed),
        # A different seed than the test folds: validation and test cold
        # users must not be chosen in lockstep.
        validation=tuning.build_validation(train, catalog_items, seed + 1),
        features=collab.build_item_features(item_metadata(space, items)),
        n_candidates=int(task.candidates.sum()),
    )


def build_model(name: str, setup: Setup, tune: bool) -> tuple[Any, dict[str, Any]]:
    """Instantiate a model, selecting hyperparameters on validation if asked."""
    can_tune = tune and setup.validation.warm.task.users.size > 0
    if name == "recommendarr":
        base = RecommendarrModel(setup.features, RecommendarrParams())
        if not can_tune:
            return base, {"method": FIXED_DEFAULTS}
        params, trials = tuning.select_recommendarr(base, setup.validation)
        return RecommendarrModel(setup.features, params), {
            "method": "staged grid search on the training-only validation split "
            "(1: l2 x popularity_l2 x like_slope, refit each; 2: history weights; 3: blend), "
            "objective = mean(val NDCG@10 warm, val NDCG@10 simulated-cold)",
            "grids": {
                "fit": tuning.RECOMMENDARR_FIT_GRID,
                "history": tuning.RECOMMENDARR_HISTORY_GRID,
                "blend": tuning.RECOMMENDARR_BLEND_GRID,
            },
            "trials": [t.as_dict() for t in trials],
        }
    factory = BASELINE_FACTORIES[name]
    grid = BASELINE_GRIDS[name]
    extra = {"seed": 0} if name == "als" else {}
    if not can_tune or not grid:
        method = "no hyperparameters" if not grid else FIXED_DEFAULTS
        return factory(**extra), {"method": method}
    kwargs, trials = tuning.select_baseline(factory, grid, setup.validation)
    return factory(**kwargs, **extra), {
        "method": "grid search on the training-only validation split, "
        "objective = mean(val NDCG@10 warm, val NDCG@10 simulated-cold)",
        "grid": grid,
        "trials": [t.as_dict() for t in trials],
    }


@dataclass(frozen=True)
class PerUser:
    """Per-user NDCG@10, in the same user order for every model (for pairing)."""

    warm: np.ndarray
    cold: np.ndarray


def evaluate_model(model: Any, setup: Setup) -> tuple[dict[str, Any], PerUser]:
    """Full-history evaluation, then the 5 cold folds (refit per fold)."""
    model.fit(setup.train)
    warm = metrics.evaluate(model.score, setup.task)
    result: dict[str, Any] = warm.summary(setup.n_candidates)
    fold_summaries = []
    shown: list[np.ndarray] = []
    cold_ndcg: list[np.ndarray] = []
    for fold in setup.folds:
        fold_task = setup.task.restricted_to(fold)
        if fold_task.users.size == 0:
            continue
        model.fit(protocol.keep_most_recent(setup.train, fold, protocol.COLD_HISTORY))
        per_user = metrics.evaluate(model.score, fold_task)
        fold_summaries.append(per_user.summary(setup.n_candidates))
        shown.append(per_user.top_items)
        cold_ndcg.append(per_user.ndcg)
    result["cold"] = cold_summary(fold_summaries, shown, setup.n_candidates)
    cold = np.concatenate(cold_ndcg) if cold_ndcg else np.zeros(0)
    return result, PerUser(warm=warm.ndcg, cold=cold)


BOOTSTRAP_SAMPLES = 2000


def paired_comparison(
    per_user: dict[str, PerUser], reference: str, seed: int
) -> dict[str, dict[str, Any]]:
    """NDCG@10 difference reference - baseline per user, with a bootstrap 95 % CI.

    Pairing on users removes most of the between-user variance, which is what
    decides whether a gap of a few thousandths is real.
    """
    rng = np.random.default_rng(seed)
    mine = per_user[reference]
    out: dict[str, dict[str, Any]] = {}
    for name, theirs in per_user.items():
        if name == reference:
            continue
        out[name] = {
            "ndcg@10_diff": _bootstrap_diff(mine.warm - theirs.warm, rng),
            "cold_ndcg@10_diff": _bootstrap_diff(mine.cold - theirs.cold, rng),
        }
    return out


def _bootstrap_diff(diff: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
    if diff.size == 0:
        return {"mean": None, "ci95": None, "users": 0}
    samples = rng.integers(0, diff.size, size=(BOOTSTRAP_SAMPLES, diff.size))
    means = diff[samples].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return {
        "mean": float(diff.mean()),
        "ci95": [float(low), float(high)],
        "users": int(diff.size),
    }


def cold_summary(
    folds: list[dict[str, Any]], shown: list[np.ndarray], n_candidates: int
) -> dict[str, Any]:
    """Metrics averaged over folds (each fold's user mean, then the fold mean)."""
    keys = (f"ndcg@{metrics.NDCG_K}", f"recall@{metrics.RECALL_K}", f"hr@{metrics.HIT_K}")
    summary: dict[str, Any] = {
        key: float(np.mean([f[key] for f in folds])) if folds else None for key in keys
    }
    distinct = np.unique(np.concatenate(shown)) if shown else np.zeros(0)
    summary[f"coverage@{metrics.COVERAGE_K}"] = (
        distinct.size / max(n_candidates, 1) if folds else None
    )
    summary["users"] = int(sum(int(f["users"]) for f in folds))
    summary["folds"] = folds
    return summary


def dataset_section(
    args: argparse.Namespace, ratings: Ratings, items: ItemRows, setup: Setup
) -> dict[str, Any]:
    return {
        "ratings_path": str(args.ratings.resolve()),
        "items_path": str(args.items.resolve()) if args.items else None,
        "ratings": len(ratings),
        "users": int(np.unique(ratings.user_ids).size),
        "rated_items": int(np.unique(ratings.item_ids).size),
        "items_in_items_file": len(items),
        "item_index_size": int(setup.space.item_ids.size),
        "candidate_items": setup.n_candidates,
        "train_ratings": len(setup.train),
        "test_ratings": len(setup.test),
        "relevant_test_ratings": int(setup.task.relevant.nnz),
        "evaluated_users": int(setup.task.users.size),
        "cold_fold_sizes": [int(f.size) for f in setup.folds],
        "validation": {
            "fit_ratings": len(setup.validation.warm.train),
            "evaluated_users": int(setup.validation.warm.task.users.size),
        },
        "content_features": setup.features.n_features,
    }


def protocol_section(args: argparse.Namespace) -> dict[str, Any]:
    seed, folds, history = args.seed, protocol.COLD_FOLDS, protocol.COLD_HISTORY
    k_ndcg, k_recall = metrics.NDCG_K, metrics.RECALL_K
    k_hit, k_cov = metrics.HIT_K, metrics.COVERAGE_K
    return {
        "split": _sentence(
            "per user with >= 5 ratings, the latest ceil(20%) of ratings by timestamp",
            "(ties broken by movieId) are test, the rest training;",
            "users with < 5 ratings are training-only",
        ),
        "relevance": _sentence(
            f"test items rated >= {protocol.RELEVANT_MIN_RATING} (binary);",
            "users with no relevant test item are not evaluated",
        ),
        "candidates": _sentence(
            "full ranking of every catalog item the user has not rated in training;",
            "catalog = items rated by anyone in training UNION every movieId in the items file",
            "(test-only items absent from the items file are not candidates but still count",
            "as relevant). No sampled negatives. Items a model cannot score (baselines: items",
            "nobody liked in training) are ranked after all scored items",
        ),
        "metrics": {
            f"ndcg@{k_ndcg}": (
                f"binary gains, 1/log2(rank+1); ideal DCG over min(|relevant|, {k_ndcg})"
            ),
            f"recall@{k_recall}": f"hits in top-{k_recall} / min(|relevant|, {k_recall})",
            f"hr@{k_hit}": f"1 if any relevant item in top-{k_hit}",
            f"coverage@{k_cov}": (
                f"distinct items in all evaluated users' top-{k_cov} / catalog size"
            ),
            "averaging": "mean over evaluated users",
        },
        "cold_start": _sentence(
            f"evaluated users split into {folds} folds (seed {seed}); per fold, those users'",
            f"training histories are cut to their {history} most recent ratings, every model is",
            "refit on that modified training data with the hyperparameters selected for it, and",
            "the fold's users are ranked (excluding everything they rated in FULL training)",
            "against the same test sets; cold ndcg/recall/hr = mean over folds of per-fold user",
            "means; cold coverage = distinct items over all folds' top-10 lists / catalog size",
        ),
        "training_signal": _sentence(
            f"baselines use binary interactions with rating >= {baselines.LIKED_MIN_RATING};",
            "recommendarr uses rating-derived weights (see its params)",
        ),
        "item_universe": _sentence(
            "baselines (incl. EASE) and recommendarr's item-item model are restricted to items",
            "with at least one positive training interaction; recommendarr's content and",
            "popularity terms score the whole item index",
        ),
        "hyperparameters": _sentence(
            "selected on a validation split carved from TRAINING data only (the same temporal",
            "rule applied to each user's training ratings, plus 5 simulated-cold folds inside it,",
            f"seed {seed + 1}); objective = mean of warm and cold validation NDCG@10 for every",
            "model; the chosen values are then refit on full training. Test data is never used",
            "for selection",
        ),
        "excluded_item_columns": list(LEAKY_ITEM_COLUMNS),
        "excluded_item_columns_reason": _sentence(
            "2025 TMDB snapshots postdate every rating (future popularity leak);",
            "dropped at load time so no model can use them",
        ),
    }


def _sentence(*parts: str) -> str:
    return " ".join(parts)


def render_table(results: dict[str, dict[str, Any]]) -> str:
    header = (
        f"{'model':<14}{'ndcg@10':>9}{'recall@20':>11}{'hr@10':>8}{'cov@10':>8}   "
        f"{'cold ndcg':>9}{'cold rec':>9}{'cold hr':>8}{'cold n':>8}"
    )
    lines = [header, "-" * len(header)]
    for name, r in results.items():
        c = r["cold"]
        lines.append(
            f"{name:<14}{_fmt(r['ndcg@10']):>9}{_fmt(r['recall@20']):>11}{_fmt(r['hr@10']):>8}"
            f"{_fmt(r['coverage@10']):>8}   {_fmt(c['ndcg@10']):>9}{_fmt(c['recall@20']):>9}"
            f"{_fmt(c['hr@10']):>8}{c['users']:>8d}"
        )
    users = next(iter(results.values()))["users"] if results else 0
    lines.append(f"(full: {users} users)")
    return "\n".join(lines)


def render_comparison(diffs: dict[str, dict[str, Any]]) -> str:
    lines = ["\nrecommendarr minus baseline, NDCG@10 (paired bootstrap 95% CI):"]
    for name, entry in diffs.items():
        parts = []
        for label, key in (("full", "ndcg@10_diff"), ("cold", "cold_ndcg@10_diff")):
            d = entry[key]
            if d["mean"] is None:
                parts.append(f"{label} n/a")
            else:
                low, high = d["ci95"]
                parts.append(f"{label} {d['mean']:+.4f} [{low:+.4f}, {high:+.4f}]")
        lines.append(f"  vs {name:<13}" + "   ".join(parts))
    return "\n".join(lines)


def _invocation(argv: list[str] | None) -> str:
    """The command line as typed (``python -m bench.quality ...`` when run that way)."""
    if sys.argv and not sys.argv[0].endswith("__main__.py"):
        return shlex.join(sys.argv)
    args = argv if argv is not None else sys.argv[1:]
    return shlex.join([sys.executable, "-m", "bench.quality", *args])


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def environment() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("numpy", "scipy", "implicit"):
        try:
            versions[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            versions[package] = "missing"
    return versions


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value)}")
