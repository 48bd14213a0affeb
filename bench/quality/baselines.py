"""Reference recommenders: MostPopular, ItemKNN (cosine), EASE, implicit ALS.

All baselines see only binary "liked" interactions (rating >= 3.5), which is
stronger than feeding them every rating, and only items with at least one
such interaction in training can be scored (everything else gets ``-inf`` and
is ranked last).  Implemented independently of ``recommendarr`` on purpose, so
the comparison does not depend on the code under test.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from bench.quality.protocol import Interactions

LIKED_MIN_RATING = 3.5


class Recommender(Protocol):
    """What the harness needs from a model."""

    name: str

    def fit(self, train: Interactions) -> None: ...

    def score(self, users: np.ndarray) -> np.ndarray: ...

    def params(self) -> dict[str, Any]: ...


class _LikedMatrixModel:
    """Shared plumbing: binary liked matrix restricted to items liked at least once."""

    name = "base"

    def __init__(self) -> None:
        self._liked: sp.csr_matrix | None = None  # users x active items
        self._active: np.ndarray = np.zeros(0, np.int64)
        self._n_items = 0

    def _prepare(self, train: Interactions) -> sp.csr_matrix:
        liked = train.subset(train.ratings >= LIKED_MIN_RATING).matrix()
        counts = np.asarray(liked.sum(axis=0)).ravel()
        self._active = np.flatnonzero(counts > 0)
        self._n_items = train.n_items
        self._liked = liked[:, self._active].tocsr()
        return self._liked

    def _scatter(self, active_scores: np.ndarray) -> np.ndarray:
        """Place scores over active items into the full item index (-inf elsewhere)."""
        full = np.full((active_scores.shape[0], self._n_items), -np.inf, np.float32)
        full[:, self._active] = active_scores
        return full

    def _history(self, users: np.ndarray) -> sp.csr_matrix:
        assert self._liked is not None, "fit() first"
        return self._liked[users]


class MostPopular(_LikedMatrixModel):
    """Items ranked by how many training users liked them."""

    name = "most_popular"

    def fit(self, train: Interactions) -> None:
        liked = self._prepare(train)
        self._counts = np.asarray(liked.sum(axis=0), dtype=np.float32).ravel()

    def score(self, users: np.ndarray) -> np.ndarray:
        return self._scatter(np.broadcast_to(self._counts, (users.size, self._counts.size)))

    def params(self) -> dict[str, Any]:
        return {"signal": f"count of ratings >= {LIKED_MIN_RATING}"}


class ItemKNN(_LikedMatrixModel):
    """Cosine item-item similarity, pruned to each item's ``neighbors`` nearest."""

    name = "itemknn"

    def __init__(self, neighbors: int = 100) -> None:
        super().__init__()
        self.neighbors = neighbors

    def fit(self, train: Interactions) -> None:
        liked = self._prepare(train)
        co = (liked.T @ liked).toarray().astype(np.float32)
        norms = np.sqrt(np.diag(co)).astype(np.float32)
        norms[norms == 0] = 1.0
        sim = co / norms[:, None] / norms[None, :]
        np.fill_diagonal(sim, 0.0)
        if 0 < self.neighbors < sim.shape[0]:
            # Keep each target item's strongest neighbours (per column), as in
            # classic item-based CF; weak similarities mostly add noise.
            cut = np.partition(sim, -self.neighbors, axis=0)[-self.neighbors]
            sim[sim < cut[None, :]] = 0.0
        self._sim = sim

    def score(self, users: np.ndarray) -> np.ndarray:
        return self._scatter(np.asarray(self._history(users) @ self._sim))

    def params(self) -> dict[str, Any]:
        return {"similarity": "cosine", "neighbors": self.neighbors}


class EASE(_LikedMatrixModel):
    """Steck (2019) closed form: B = I - P / diag(P), P = (X'X + l2 I)^-1.

    With fewer users than items, P comes from the Woodbury identity
    P = (I - X' (XX' + l2 I)^-1 X) / l2, which is the same estimator at a
    fraction of the cost (a users x users solve instead of an items x items
    inverse); scores are then computed without materialising B.
    """

    name = "ease"

    def __init__(self, l2: float = 200.0) -> None:
        super().__init__()
        self.l2 = l2

    def fit(self, train: Interactions) -> None:
        liked = self._prepare(train)
        self._weights: np.ndarray | None = None
        if liked.shape[0] < liked.shape[1]:
            self._fit_dual(liked.toarray().astype(np.float64))
        else:
            self._fit_primal(liked)

    def _fit_primal(self, liked: sp.csr_matrix) -> None:
        gram = (liked.T @ liked).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.l2
        # Cholesky-based inverse: the Gram matrix is SPD.  Only the upper
        # triangle is returned, so mirror it.
        factor, info = lapack.dpotrf(gram, lower=False, overwrite_a=True)
        if info != 0:
            raise np.linalg.LinAlgError(f"Cholesky failed ({info})")
        upper, info = lapack.dpotri(factor, lower=False, overwrite_c=True)
        if info != 0:
            raise np.linalg.LinAlgError(f"inverse failed ({info})")
        precision = np.triu(upper) + np.triu(upper, 1).T
        weights = -precision / np.diag(precision)[None, :]
        np.fill_diagonal(weights, 0.0)
        self._weights = weights.astype(np.float32)

    def _fit_dual(self, dense: np.ndarray) -> None:
        kernel = dense @ dense.T
        kernel[np.diag_indices_from(kernel)] += self.l2
        self._data = dense
        self._solved = np.linalg.solve(kernel, dense)  # (XX' + l2 I)^-1 X
        self._diag = (1.0 - (dense * self._solved).sum(axis=0)) / self.l2

    def score(self, users: np.ndarray) -> np.ndarray:
        history = self._history(users)
        if self._weights is not None:
            return self._scatter(np.asarray(history @ self._weights))
        dense = history.toarray().astype(np.float64)
        # h B = h - (h P) / diag(P) with h P = (h - (h X') (XX' + l2 I)^-1 X) / l2
        times_p = (dense - (dense @ self._data.T) @ self._solved) / self.l2
        return self._scatter((dense - times_p / self._diag[None, :]).astype(np.float32))

    def params(self) -> dict[str, Any]:
        solver = "primal" if self._weights is not None else "dual (Woodbury)"
        return {"l2": self.l2, "solver": solver}


class ALS(_LikedMatrixModel):
    """implicit's CPU ALS (Hu, Koren & Volinsky confidence weighting)."""

    name = "als"

    def __init__(
        self,
        factors: int = 128,
        regularization: float = 20.0,
        alpha: float = 4.0,
        iterations: int = 15,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.seed = seed

    def fit(self, train: Interactions) -> None:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        liked = self._prepare(train)
        # implicit parallelises itself; a multi-threaded BLAS underneath would
        # oversubscribe the cores.  implicit checks (and warns about) the BLAS
        # pool in the constructor, so construction must be inside the limit too.
        with threadpool_limits(limits=1, user_api="blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                calculate_training_loss=False,
                num_threads=_cpu_threads(),
                random_state=self.seed,
            )
            model.fit(liked, show_progress=False)
        self._user_factors = np.asarray(model.user_factors, np.float32)
        self._item_factors = np.asarray(model.item_factors, np.float32)

    def score(self, users: np.ndarray) -> np.ndarray:
        return self._scatter(self._user_factors[users] @ self._item_factors.T)

    def params(self) -> dict[str, Any]:
        return {
            "factors": self.factors,
            "regularization": self.regularization,
            "alpha": self.alpha,
            "iterations": self.iterations,
            "threads": _cpu_threads(),
            "random_state": self.seed,
        }


def _cpu_threads() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
