"""fit_taste_model(period_key): refit the server-wide taste model when its inputs changed.

The fit reads every user's viewings and the catalog, runs outside any transaction (it is
CPU-bound), and stores the model under the hash of its inputs: a re-run with the same inputs
stores nothing. A new model re-ranks every user who has watched something.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

import dramatiq

from recommendarr import broker as _broker  # noqa: F401 - declares the broker before the actor
from recommendarr.functions.rank_user import rank_user
from recommendarr.shared import resources
from recommendarr.shared.db import Connection
from recommendarr.shared.domain.collaborative import ItemMetadata
from recommendarr.shared.domain.taste import Viewing, summarize_titles
from recommendarr.shared.domain.taste_model import (
    Interaction,
    ServerModel,
    dump_model,
    fit_server_model,
    interactions_for_user,
)
from recommendarr.shared.errors import Permanent
from recommendarr.shared.store import pending_requests, taste_models
from recommendarr.shared.store.pending_requests import Pending

log = logging.getLogger(__name__)


@dramatiq.actor(
    actor_name="fit_taste_model",
    queue_name="profiles",
    max_retries=3,
    min_backoff=5_000,
    max_backoff=60_000,
    time_limit=15 * 60_000,
    throws=(Permanent,),
)
def fit_taste_model(period_key: str) -> None:
    res = resources.current()
    started = time.monotonic()
    with res.pool.connection() as conn:
        digest = taste_models.fit_input_hash(conn)
        if taste_models.has_model(conn, digest):
            return
        inputs = read_inputs(conn)
    model, n_interactions = fit(*inputs)
    with res.pool.connection() as conn, conn.transaction():
        model_id = taste_models.save(
            conn,
            digest,
            model.n_users,
            len(model.item_ids),
            n_interactions,
            dump_model(model),
            fit_seconds=time.monotonic() - started,
        )
        users = taste_models.users_with_viewings(conn) if model_id is not None else []
        # Users whose ranking is already on its way get nothing more: it will read this model.
        to_rank = pending_requests.request_many(conn, Pending.RANKING, users)
    for user_id in to_rank:
        rank_user.send(user_id)
    if model_id is not None:
        log.info(
            "taste model %s (%s): %d users, %d titles, %d interactions, %.1f s",
            model_id,
            period_key,
            model.n_users,
            len(model.item_ids),
            n_interactions,
            time.monotonic() - started,
        )


Inputs = tuple[
    dict[int, list[Viewing]],
    dict[int, dict[int, str]],
    dict[int, ItemMetadata],
    dict[int, datetime],
]


def read_inputs(conn: Connection) -> Inputs:
    return (
        taste_models.all_viewings(conn),
        taste_models.all_votes(conn),
        taste_models.catalog(conn),
        taste_models.added_at(conn),
    )


def fit(
    viewings: dict[int, list[Viewing]],
    votes: dict[int, dict[int, str]],
    catalog: dict[int, ItemMetadata],
    added_at: dict[int, datetime],
) -> tuple[ServerModel, int]:
    """The model, and how many (user, title) interactions it was fitted on."""
    interactions: list[Interaction] = []
    for user_id, rows in viewings.items():
        titles = summarize_titles(rows)
        interactions += interactions_for_user(
            user_id, titles, votes.get(user_id), added_at=added_at
        )
    return fit_server_model(interactions, catalog), len(interactions)
