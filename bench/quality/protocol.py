"""The evaluation protocol: index space, temporal split, targets, cold folds.

Everything here is model-agnostic.  Models only ever see an ``Interactions``
object (the training data) and are asked to score users against the whole
item index; the protocol decides what is excluded and what counts as a hit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from bench.quality.data import ItemRows, Ratings

MIN_RATINGS_FOR_TEST = 5
TEST_DIVISOR = 5  # latest ceil(n / 5) = ceil(20 %) ratings go to test
RELEVANT_MIN_RATING = 4.0
COLD_FOLDS = 5
COLD_HISTORY = 10


@dataclass(frozen=True)
class Interactions:
    """Ratings in dense index space (users 0..n_users-1, items 0..n_items-1)."""

    users: np.ndarray  # int64
    items: np.ndarray  # int64
    ratings: np.ndarray  # float64
    timestamps: np.ndarray  # float64
    n_users: int
    n_items: int

    def __len__(self) -> int:
        return int(self.users.shape[0])

    def subset(self, mask: np.ndarray) -> Interactions:
        return replace(
            self,
            users=self.users[mask],
            items=self.items[mask],
            ratings=self.ratings[mask],
            timestamps=self.timestamps[mask],
        )

    def matrix(self, values: np.ndarray | None = None) -> sp.csr_matrix:
        """User x item CSR matrix of ``values`` (default: 1 per interaction)."""
        data = np.ones(len(self), np.float32) if values is None else values.astype(np.float32)
        return sp.csr_matrix((data, (self.users, self.items)), shape=(self.n_users, self.n_items))


@dataclass(frozen=True)
class IndexSpace:
    """External id <-> index mapping shared by every split of one run."""

    user_ids: np.ndarray  # external id of user index i
    item_ids: np.ndarray  # external id of item index j


def index_ratings(
    ratings: Ratings, metadata_item_ids: np.ndarray
) -> tuple[IndexSpace, Interactions]:
    """Map ids to indices.  Items = rated items plus every item of the items file."""
    user_ids, users = np.unique(ratings.user_ids, return_inverse=True)
    item_ids = np.union1d(np.unique(ratings.item_ids), metadata_item_ids.astype(np.int64))
    items = np.searchsorted(item_ids, ratings.item_ids)
    interactions = Interactions(
        users=users.astype(np.int64),
        items=items.astype(np.int64),
        ratings=ratings.ratings,
        timestamps=ratings.timestamps,
        n_users=int(user_ids.shape[0]),
        n_items=int(item_ids.shape[0]),
    )
    return IndexSpace(user_ids=user_ids, item_ids=item_ids), interactions


def recency_rank(data: Interactions) -> np.ndarray:
    """Per interaction: 0 for the user's most recent rating, 1 for the one before, ...

    Ties on timestamp are broken by item index so the split is deterministic.
    """
    order = np.lexsort((data.items, data.timestamps, data.users))
    counts = np.bincount(data.users, minlength=data.n_users)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    sorted_users = data.users[order]
    position = np.arange(len(data)) - starts[sorted_users]  # 0 = oldest
    from_newest = counts[sorted_users] - 1 - position
    rank = np.empty(len(data), np.int64)
    rank[order] = from_newest
    return rank


def temporal_split(data: Interactions) -> tuple[Interactions, Interactions]:
    """Latest ceil(20 %) of each 5+-rating user's ratings -> test; rest -> train."""
    counts = np.bincount(data.users, minlength=data.n_users)
    n_test = np.where(
        counts >= MIN_RATINGS_FOR_TEST, (counts + TEST_DIVISOR - 1) // TEST_DIVISOR, 0
    )
    is_test = recency_rank(data) < n_test[data.users]
    return data.subset(~is_test), data.subset(is_test)


def keep_most_recent(data: Interactions, users: np.ndarray, keep: int) -> Interactions:
    """Cut the histories of ``users`` to their ``keep`` most recent ratings."""
    chosen = np.zeros(data.n_users, bool)
    chosen[users] = True
    drop = chosen[data.users] & (recency_rank(data) >= keep)
    return data.subset(~drop)


@dataclass(frozen=True)
class EvalTask:
    """Who is evaluated, what is relevant to them, and what is off-limits.

    ``candidates`` marks the catalog (items ranked at all); ``exclude`` holds,
    per user, the items rated in the (full) training data, which are never
    ranked.  ``relevant`` holds test items rated >= 4.0.
    """

    users: np.ndarray
    relevant: sp.csr_matrix
    exclude: sp.csr_matrix
    candidates: np.ndarray  # bool over item index

    def restricted_to(self, users: np.ndarray) -> EvalTask:
        return replace(self, users=np.intersect1d(self.users, users))


def build_task(train: Interactions, test: Interactions, catalog_items: np.ndarray) -> EvalTask:
    """Targets for ``test`` given ``train``; catalog = training items + ``catalog_items``."""
    relevant = test.subset(test.ratings >= RELEVANT_MIN_RATING).matrix()
    relevant.data[:] = 1.0
    exclude = train.matrix()
    candidates = np.zeros(train.n_items, bool)
    candidates[train.items] = True
    candidates[catalog_items] = True
    users = np.flatnonzero(np.diff(relevant.indptr) > 0)
    return EvalTask(users=users, relevant=relevant, exclude=exclude, candidates=candidates)


def cold_folds(users: np.ndarray, seed: int) -> list[np.ndarray]:
    """Seeded split of the evaluated users into COLD_FOLDS disjoint folds."""
    shuffled = np.random.default_rng(seed).permutation(users)
    return [np.sort(fold) for fold in np.array_split(shuffled, COLD_FOLDS)]


def metadata_item_ids(items: ItemRows) -> np.ndarray:
    return np.fromiter(items.keys(), dtype=np.int64, count=len(items))


def metadata_item_indices(space: IndexSpace, items: ItemRows) -> np.ndarray:
    """Item indices of the rows of the items file."""
    return np.searchsorted(space.item_ids, metadata_item_ids(items))
