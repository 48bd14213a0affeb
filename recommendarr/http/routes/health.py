"""GET /health: database, broker and queue depths. Public, and free of secrets."""

from __future__ import annotations

import logging

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name
from starlette.requests import Request
from starlette.responses import JSONResponse

from recommendarr.broker import QUEUES, broker
from recommendarr.http.openapi import Endpoint
from recommendarr.http.schemas import Health
from recommendarr.shared.store import inbox, jobs

log = logging.getLogger(__name__)


def queue_depths(current: dramatiq.Broker) -> dict[str, int]:
    """Messages waiting per queue (delayed retries included)."""
    if isinstance(current, StubBroker):
        return {q: current.queues[q].qsize() + current.queues[dq_name(q)].qsize() for q in QUEUES}
    assert isinstance(current, RedisBroker)
    return {
        q: int(current.client.llen(f"{current.namespace}:{q}"))
        + int(current.client.llen(f"{current.namespace}:{dq_name(q)}"))
        for q in QUEUES
    }


def health(request: Request) -> JSONResponse:
    database = broker_state = "ok"
    unfinished, job_counts, depths = 0, {}, {q: 0 for q in QUEUES}
    try:
        with request.app.state.resources.pool.connection(timeout=2) as conn:
            unfinished = inbox.count_unfinished(conn)
            job_counts = jobs.count_by_state(conn)
    except Exception as exc:  # noqa: BLE001 - health reports any failure instead of raising it
        database = f"error: {type(exc).__name__}"
    try:
        depths = queue_depths(broker)
    except Exception as exc:  # noqa: BLE001
        broker_state = f"error: {type(exc).__name__}"
    settings = request.app.state.resources.settings
    body = Health(
        status="ok" if database == broker_state == "ok" else "degraded",
        database=database,
        broker=broker_state,
        mode="in-process workers (no REDIS_URL)" if settings.embedded_broker else "redis",
        queues=depths,
        inbox_unfinished=unfinished,
        jobs=job_counts,
    )
    return JSONResponse(body.model_dump(), status_code=200 if body.status == "ok" else 503)


ROUTES = [
    (
        Endpoint(
            "GET",
            "/health",
            "Database, broker and queue depths",
            {200: Health, 503: Health},
            "none",
            tags=("operations",),
        ),
        health,
    ),
]
