"""Ranking metrics of the offline quality benchmark, against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from bench.quality import metrics
from bench.quality.protocol import EvalTask

N_ITEMS = 40


def _rows(n_users: int, per_user: list[list[int]]) -> sp.csr_matrix:
    users = [u for u, items in enumerate(per_user) for _ in items]
    items = [i for row in per_user for i in row]
    data = np.ones(len(items), np.float32)
    return sp.csr_matrix((data, (users, items)), shape=(n_users, N_ITEMS))


def _task(
    relevant: list[list[int]],
    exclude: list[list[int]] | None = None,
    candidates: np.ndarray | None = None,
) -> EvalTask:
    n_users = len(relevant)
    return EvalTask(
        users=np.arange(n_users),
        relevant=_rows(n_users, relevant),
        exclude=_rows(n_users, exclude or [[] for _ in relevant]),
        candidates=np.ones(N_ITEMS, bool) if candidates is None else candidates,
    )


def _ranking(order: list[int]) -> np.ndarray:
    """Scores that put ``order`` first (in that order), then the rest by item index."""
    scores = -np.arange(N_ITEMS) / N_ITEMS
    for position, item in enumerate(order):
        scores[item] = 100.0 - position
    return scores


def _fixed(*per_user: list[int]) -> metrics.ScoreFn:
    table = np.stack([_ranking(order) for order in per_user])

    def score(users: np.ndarray) -> np.ndarray:
        rows: np.ndarray = table[users]
        return rows

    return score


def test_ndcg_with_hits_at_ranks_one_and_three() -> None:
    task = _task(relevant=[[7, 9]])
    result = metrics.evaluate(_fixed([7, 3, 9, 4]), task)

    expected = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert result.ndcg[0] == pytest.approx(expected)
    assert result.recall[0] == pytest.approx(1.0)
    assert result.hit[0] == 1.0


def test_ndcg_ideal_is_capped_at_ten_relevant_items() -> None:
    relevant = list(range(20, 35))  # 15 relevant, all ranked first
    result = metrics.evaluate(_fixed(relevant), _task(relevant=[relevant]))
    assert result.ndcg[0] == pytest.approx(1.0)


def test_a_hit_below_rank_ten_counts_for_recall_but_not_ndcg_or_hr() -> None:
    order = list(range(10, 21))  # item 20 sits at rank 11
    result = metrics.evaluate(_fixed(order), _task(relevant=[[20]]))

    assert result.ndcg[0] == 0.0
    assert result.hit[0] == 0.0
    assert result.recall[0] == pytest.approx(1.0)


def test_recall_denominator_is_min_of_relevant_and_twenty() -> None:
    many = list(range(25))  # 25 relevant items
    few = [30, 31, 32, 33]
    # User 0 gets 10 of their 25 relevant items into the top 20;
    # user 1 gets 2 of their 4 relevant items into the top 20.
    order_many = [*many[:10], *range(26, 40)]
    order_few = [30, 31, *range(0, 18)]
    result = metrics.evaluate(_fixed(order_many, order_few), _task(relevant=[many, few]))

    assert result.recall[0] == pytest.approx(10 / 20)
    assert result.recall[1] == pytest.approx(2 / 4)


def test_hit_rate_and_summary_average_over_users() -> None:
    task = _task(relevant=[[1], [2], [38], [39]])
    result = metrics.evaluate(_fixed([1], [2], [0], [0]), task)

    assert result.hit.tolist() == [1.0, 1.0, 0.0, 0.0]
    summary = result.summary(n_candidates=N_ITEMS)
    assert summary["hr@10"] == pytest.approx(0.5)
    assert summary["users"] == 4


def test_coverage_counts_distinct_items_in_top_ten_lists() -> None:
    # Both users see items 0-9 in the same order: 10 distinct of 40 candidates.
    same = list(range(10))
    shared = metrics.evaluate(_fixed(same, same), _task(relevant=[[0], [1]]))
    assert shared.summary(N_ITEMS)["coverage@10"] == pytest.approx(10 / N_ITEMS)
    # Disjoint lists: 20 distinct.
    disjoint = metrics.evaluate(
        _fixed(list(range(10)), list(range(10, 20))), _task(relevant=[[0], [1]])
    )
    assert disjoint.summary(N_ITEMS)["coverage@10"] == pytest.approx(20 / N_ITEMS)


def test_training_items_are_never_ranked() -> None:
    # The model loves the items the user already rated; they must be skipped,
    # which moves the relevant item 9 from rank 4 up to rank 1.
    task = _task(relevant=[[9]], exclude=[[5, 6, 7]])
    result = metrics.evaluate(_fixed([5, 6, 7, 9]), task)

    assert result.ndcg[0] == pytest.approx(1.0)
    assert not {5, 6, 7} & set(result.top_items.tolist())


def test_non_candidates_are_never_ranked() -> None:
    candidates = np.ones(N_ITEMS, bool)
    candidates[[5, 6]] = False
    task = _task(relevant=[[9]], candidates=candidates)
    result = metrics.evaluate(_fixed([5, 6, 9]), task)

    assert result.ndcg[0] == pytest.approx(1.0)
    assert not {5, 6} & set(result.top_items.tolist())


def test_unscorable_items_leave_the_list_short() -> None:
    def score(users: np.ndarray) -> np.ndarray:
        scores = np.full((users.size, N_ITEMS), -np.inf)
        scores[:, [3, 4]] = [1.0, 2.0]
        return scores

    # User 1's relevant item 0 cannot be scored: the empty slots (-1) of
    # the short list must not be read as item 0.
    result = metrics.evaluate(score, _task(relevant=[[3], [0]]))

    assert sorted(result.top_items.tolist()) == [3, 4]
    assert result.ndcg[0] == pytest.approx(1 / math.log2(3))
    assert result.ndcg[1] == 0.0
    assert result.hit[1] == 0.0


def test_top_k_orders_best_first_and_pads_tiny_catalogs() -> None:
    scores = np.array([[0.1, 0.9, 0.5]])
    assert metrics.top_k(scores, 2).tolist() == [[1, 2]]
    assert metrics.top_k(scores, 5).tolist() == [[1, 2, 0, -1, -1]]


def test_summary_is_null_when_nobody_is_evaluated() -> None:
    empty = EvalTask(
        users=np.zeros(0, np.int64),
        relevant=_rows(1, [[]]),
        exclude=_rows(1, [[]]),
        candidates=np.ones(N_ITEMS, bool),
    )
    summary = metrics.evaluate(_fixed([0]), empty).summary(N_ITEMS)
    assert summary["ndcg@10"] is None
    assert summary["coverage@10"] is None
    assert summary["users"] == 0
