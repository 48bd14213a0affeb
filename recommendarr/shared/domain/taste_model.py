"""The server-wide taste model: what every user's viewings say, fitted once, scored per user.

Watched is not liked. Each title a user touched becomes one number on the 0.5-5 star scale the
rating curve of ``collaborative.RatingWeights`` was tuned on: their own rating when they gave
one, otherwise what they did (finished, rewatched, abandoned early, stopped half-way). Those
numbers feed two things:

* the item-item model, fitted over the whole server (``fit_server_model``). A title counts in it
  only once ``MIN_SUPPORTING_USERS`` users liked it, so no pattern rests on one or two people;
  with few interactions on the server the blend trusts it little (``collaborative_trust``);
* each user's history row (``score_user``), recent titles weighted more, restricted to one
  domain (movies, tv, anime) unless cross-domain blending is on, and to a history window.

The offline benchmark (``bench/quality``) turns ratings into viewings and goes through these same
functions, so the figures it reports are the production model's.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

import numpy as np

from recommendarr.shared.domain import collaborative as collab
from recommendarr.shared.domain.taste import TitleHistory

MIN_SUPPORTING_USERS = 3
DEFAULT_WINDOW_DAYS = 365
QUIZ_STARS = 4.5
VOTE_STARS = {"up": 5.0, "down": 1.0}
SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class ModelParams:
    l2: float = collab.DEFAULT_L2
    popularity_l2: float = collab.DEFAULT_POPULARITY_L2
    min_supporting_users: int = MIN_SUPPORTING_USERS
    weights: collab.RatingWeights = field(default_factory=collab.RatingWeights)
    blend: collab.BlendParams = field(default_factory=collab.BlendParams)
    # History window in days before the user's latest activity (None = all of it). Measured
    # relative to their own latest viewing so someone back after a year away keeps their taste.
    window_days: float | None = DEFAULT_WINDOW_DAYS

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ModelParams:
        weights = collab.RatingWeights(**dict(data["weights"]))  # type: ignore[call-overload]
        blend = collab.BlendParams(**dict(data["blend"]))  # type: ignore[call-overload]
        scalars = {k: v for k, v in data.items() if k not in ("weights", "blend")}
        return cls(weights=weights, blend=blend, **scalars)  # type: ignore[arg-type]


# Not frozen, but treated as values: a ranking builds thousands of these, and a frozen
# dataclass's __init__ is about five times slower (it sets each field through object.__setattr__).
@dataclass(slots=True)
class Interaction:
    """One user's one title, as a star value, with its age before their latest activity."""

    user_id: int
    item_id: int
    domain: str
    stars: float
    age_days: float
    # Abandoned early: a strong negative, so it must not pull the user's history towards
    # itself (a low star value alone still would, a little, by the rating curve's design).
    abandoned: bool = False


EAGER_START_DAYS = 7
EAGER_BONUS = 0.5


def eager_bonus(title: TitleHistory, added_at: datetime | None) -> float:
    """Started within a week of the title reaching the library and then finished it: they were
    waiting for it. Half a star (time-to-start, capped at 5), never for an abandon."""
    if added_at is None or title.first_seen is None or not title.finished:
        return 0.0
    if title.completions > 1:  # already 5 stars
        return 0.0
    waited = (title.first_seen - added_at).total_seconds() / SECONDS_PER_DAY
    return EAGER_BONUS if 0 <= waited <= EAGER_START_DAYS else 0.0


def title_stars(title: TitleHistory, vote: str | None = None) -> float:
    """What a user's viewing of a title says, on the 0.5-5 star scale.

    An explicit rating wins (Plex rates 0-10); a rewatch adds half a star to it. Without one:
    rewatched 5, finished 4, abandoned before 20% 1, stopped after half 3.5 (the like
    threshold: maybe still watching), stopped sooner 2.5. A thumbs up or down overrides.
    """
    if vote in VOTE_STARS:
        return VOTE_STARS[vote]
    if title.rating is not None:
        stars = min(5.0, max(0.5, title.rating / 2.0))
        return min(5.0, stars + 0.5) if title.completions > 1 else stars
    if title.abandoned:
        return 1.0
    if title.completions > 1:
        return 5.0
    if title.completions == 1:
        return 4.0
    return 3.5 if title.max_progress >= 0.5 else 2.5


def interactions_for_user(
    user_id: int,
    titles: Sequence[TitleHistory],
    votes: Mapping[int, str] | None = None,
    quiz_liked: Iterable[tuple[int, str]] = (),
    added_at: Mapping[int, datetime] | None = None,
) -> list[Interaction]:
    """A user's titles as interactions; quiz picks count as liked titles seen at their latest.
    ``added_at`` (when each title reached a library) lets an eager start count."""
    votes = votes or {}
    added_at = added_at or {}
    latest = max((t.last_seen for t in titles), default=None)
    rows = [
        Interaction(
            user_id=user_id,
            item_id=t.item_id,
            domain=t.domain,
            stars=title_stars(t, votes.get(t.item_id))
            # Eagerness says they wanted it; their own verdict, when given, says the rest.
            + (
                eager_bonus(t, added_at.get(t.item_id))
                if t.rating is None and t.item_id not in votes
                else 0.0
            ),
            age_days=0.0
            if latest is None
            else max(0.0, (latest - t.last_seen).total_seconds() / SECONDS_PER_DAY),
            abandoned=t.abandoned and votes.get(t.item_id) != "up",
        )
        for t in titles
    ]
    seen = {t.item_id for t in titles}
    rows += [
        Interaction(user_id, item_id, domain, QUIZ_STARS, 0.0)
        for item_id, domain in quiz_liked
        if item_id not in seen
    ]
    return rows


@dataclass(frozen=True)
class ServerModel:
    """The fitted model: ``item_ids[j]`` is the title behind column ``j``."""

    item_ids: np.ndarray
    hybrid: collab.HybridModel
    params: ModelParams
    n_users: int

    def columns(self, item_ids: Iterable[int] | np.ndarray) -> np.ndarray:
        """Column of each item id, -1 for titles the model has not seen."""
        ids = (
            item_ids.astype(np.int64, copy=False)
            if isinstance(item_ids, np.ndarray)
            else np.fromiter(item_ids, dtype=np.int64)
        )
        if len(self.item_ids) == 0:
            return np.full(len(ids), -1, dtype=np.int64)
        positions = np.clip(np.searchsorted(self.item_ids, ids), 0, len(self.item_ids) - 1)
        found = self.item_ids[positions] == ids
        return np.where(found, positions, -1)

    def coverage(self, item_ids: Sequence[int] | np.ndarray) -> float:
        """Share of these titles the model was fitted with (1.0 for none asked)."""
        if len(item_ids) == 0:
            return 1.0
        return float((self.columns(item_ids) >= 0).mean())


def fit_server_model(
    interactions: Sequence[Interaction],
    catalog: Mapping[int, collab.ItemMetadata],
    params: ModelParams | None = None,
    features: collab.ItemFeatures | None = None,
) -> ServerModel:
    """Fit on every user's interactions; ``catalog`` holds the titles that may be offered.

    ``features`` may be passed when already built for exactly the sorted catalog ids (a
    benchmark refitting many times over one catalog).
    """
    params = params or ModelParams()
    item_ids = np.array(sorted(set(catalog) | {i.item_id for i in interactions}), dtype=np.int64)
    user_ids = sorted({i.user_id for i in interactions})
    user_row = {u: n for n, u in enumerate(user_ids)}
    matrix = np.zeros((len(user_ids), len(item_ids)))
    if interactions:
        rows = np.array([user_row[i.user_id] for i in interactions])
        cols = np.searchsorted(item_ids, [i.item_id for i in interactions])
        stars = np.array([i.stars for i in interactions])
        np.maximum.at(matrix, (rows, cols), collab.model_weights(stars, params.weights))
    supporters = (matrix > 0).sum(axis=0)
    matrix[:, supporters < params.min_supporting_users] = 0.0
    if features is None or features.n_items != len(item_ids):
        metadata = [catalog.get(int(i), collab.ItemMetadata()) for i in item_ids]
        features = collab.build_item_features(metadata)
    if not matrix.any():
        # A new server: no pattern has enough supporters yet; content and popularity lead.
        matrix = np.zeros((max(len(user_ids), 1), len(item_ids)))
    hybrid = collab.fit_hybrid(matrix, features, params.l2, params.popularity_l2)
    return ServerModel(item_ids=item_ids, hybrid=hybrid, params=params, n_users=len(user_ids))


class ModelWindow:
    """Use the window the model was fitted with (a user may have chosen their own)."""


MODEL_WINDOW = ModelWindow()


def history_row(
    model: ServerModel,
    history: Sequence[Interaction],
    window_days: float | ModelWindow | None = MODEL_WINDOW,
) -> tuple[np.ndarray, int]:
    """The user's weighted history over the model's columns, and how many titles it holds.
    ``window_days`` None keeps all of it."""
    window = model.params.window_days if isinstance(window_days, ModelWindow) else window_days
    kept = [i for i in history if not i.abandoned and (window is None or i.age_days <= window)]
    row = np.zeros(len(model.item_ids))
    if not kept:
        return row, 0
    columns = model.columns(i.item_id for i in kept)
    present = columns >= 0
    weights = collab.history_weights(
        np.array([i.stars for i in kept]),
        np.array([i.age_days for i in kept]),
        model.params.weights,
    )
    np.maximum.at(row, columns[present], weights[present])
    return row, int(present.sum())


def score_user(model: ServerModel, history: Sequence[Interaction]) -> np.ndarray:
    """Blended scores over the model's columns for one user's history (one domain's, usually)."""
    row, size = history_row(model, history)
    scores: np.ndarray = score_rows(model, row[None, :], np.array([float(size)]))[0]
    return scores


def score_rows(model: ServerModel, rows: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    if model.hybrid.item_model.n_items == 0:
        return np.zeros_like(rows)
    return collab.score_hybrid(model.hybrid, rows, sizes, model.params.blend)


def has_enough_supporters(model: ServerModel) -> bool:
    return bool(model.hybrid.item_model.active.any())


# --------------------------------------------------------------------------
# Storage: one numpy archive, so a worker loads the fitted model in milliseconds
# --------------------------------------------------------------------------


def dump_model(model: ServerModel) -> bytes:
    item = model.hybrid.item_model
    features = model.hybrid.features
    arrays: dict[str, np.ndarray] = {
        "item_ids": model.item_ids,
        "active": item.active,
        "item_l2": item.item_l2,
        "precision_diagonal": item.precision_diagonal,
        "row_starts": features.row_starts,
        "feature_columns": features.columns,
        "feature_values": features.values,
        "popularity": model.hybrid.popularity,
    }
    for name in ("primal_weights", "dual_data", "dual_solved"):
        value = getattr(item, name)
        if value is not None:
            arrays[name] = value
    meta = {
        "params": model.params.as_dict(),
        "n_users": model.n_users,
        "n_items": item.n_items,
        "n_features": features.n_features,
        "server_interactions": model.hybrid.server_interactions,
    }
    buffer = io.BytesIO()
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def load_model(data: bytes) -> ServerModel:
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(str(arrays.pop("meta")))
    item_model = collab.ItemItemModel(
        n_items=int(meta["n_items"]),
        active=arrays["active"],
        item_l2=arrays["item_l2"],
        primal_weights=arrays.get("primal_weights"),
        dual_data=arrays.get("dual_data"),
        dual_solved=arrays.get("dual_solved"),
        precision_diagonal=arrays["precision_diagonal"],
    )
    features = collab.ItemFeatures(
        n_items=int(meta["n_items"]),
        n_features=int(meta["n_features"]),
        row_starts=arrays["row_starts"],
        columns=arrays["feature_columns"],
        values=arrays["feature_values"],
    )
    hybrid = collab.HybridModel(
        item_model=item_model,
        features=features,
        popularity=arrays["popularity"],
        server_interactions=float(meta["server_interactions"]),
    )
    return ServerModel(
        item_ids=arrays["item_ids"],
        hybrid=hybrid,
        params=ModelParams.from_dict(meta["params"]),
        n_users=int(meta["n_users"]),
    )
