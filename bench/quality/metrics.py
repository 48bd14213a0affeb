"""Top-k ranking metrics over a full candidate ranking (no sampled negatives)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bench.quality.protocol import EvalTask

NDCG_K = 10
RECALL_K = 20
HIT_K = 10
COVERAGE_K = 10
MAX_K = max(NDCG_K, RECALL_K, HIT_K, COVERAGE_K)
USER_BATCH = 512  # bounds the dense users x items score block

ScoreFn = Callable[[np.ndarray], np.ndarray]
"""Maps a batch of user indices to a (batch, n_items) float score matrix.

``-inf`` means "this model cannot rank this item"; such items go after every
scored item (and therefore never enter a top-k list unless fewer than k
items are scorable, in which case the list is simply shorter).
"""


@dataclass(frozen=True)
class UserMetrics:
    """Per-user metric values plus the top-k items (for coverage)."""

    ndcg: np.ndarray
    recall: np.ndarray
    hit: np.ndarray
    top_items: np.ndarray  # distinct items appearing in some top-COVERAGE_K list

    def summary(self, n_candidates: int) -> dict[str, float | int | None]:
        """User-averaged metrics; None (not 0) when nobody could be evaluated."""
        evaluated = self.ndcg.size > 0
        return {
            f"ndcg@{NDCG_K}": float(self.ndcg.mean()) if evaluated else None,
            f"recall@{RECALL_K}": float(self.recall.mean()) if evaluated else None,
            f"hr@{HIT_K}": float(self.hit.mean()) if evaluated else None,
            f"coverage@{COVERAGE_K}": self.top_items.size / max(n_candidates, 1)
            if evaluated
            else None,
            "users": int(self.ndcg.size),
        }


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best scores per row, best first; -1 where fewer than k."""
    if scores.shape[1] < k:  # tiny catalogs: pad so every list has k slots
        padding = np.full((scores.shape[0], k - scores.shape[1]), -np.inf, scores.dtype)
        scores = np.hstack([scores, padding])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    ranked = np.take_along_axis(part, order, axis=1)
    ranked_scores = np.take_along_axis(part_scores, order, axis=1)
    return np.where(np.isfinite(ranked_scores), ranked, -1)


def evaluate(score: ScoreFn, task: EvalTask) -> UserMetrics:
    """Rank all candidates for every task user and compute the metrics."""
    discounts = 1.0 / np.log2(np.arange(2, MAX_K + 2))
    ideal = np.cumsum(discounts)
    ndcg, recall, hit, seen = [], [], [], []
    for start in range(0, task.users.size, USER_BATCH):
        users = task.users[start : start + USER_BATCH]
        scores = np.array(score(users), dtype=np.float32, copy=True)
        scores[:, ~task.candidates] = -np.inf
        excluded = task.exclude[users]
        scores[excluded.nonzero()] = -np.inf
        ranked = top_k(scores, MAX_K)
        relevant = task.relevant[users]
        dense_relevant = relevant.toarray() > 0
        is_hit = np.take_along_axis(dense_relevant, np.maximum(ranked, 0), axis=1)
        is_hit &= ranked >= 0
        n_relevant = np.diff(relevant.indptr)
        dcg = (is_hit[:, :NDCG_K] * discounts[:NDCG_K]).sum(axis=1)
        ndcg.append(dcg / ideal[np.minimum(n_relevant, NDCG_K) - 1])
        recall.append(is_hit[:, :RECALL_K].sum(axis=1) / np.minimum(n_relevant, RECALL_K))
        hit.append(is_hit[:, :HIT_K].any(axis=1).astype(float))
        shown = ranked[:, :COVERAGE_K]
        seen.append(np.unique(shown[shown >= 0]))
    return UserMetrics(
        ndcg=np.concatenate(ndcg) if ndcg else np.zeros(0),
        recall=np.concatenate(recall) if recall else np.zeros(0),
        hit=np.concatenate(hit) if hit else np.zeros(0),
        top_items=np.unique(np.concatenate(seen)) if seen else np.zeros(0, np.int64),
    )
