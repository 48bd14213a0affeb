"""POST /webhooks/tautulli: validate, record in the inbox, enqueue, answer 202."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from dramatiq import Actor
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from recommendarr.functions.on_watch_event import on_watch_event
from recommendarr.http.auth import check_webhook_token
from recommendarr.http.openapi import Endpoint, Param
from recommendarr.http.schemas import Accepted
from recommendarr.shared.domain.events import PayloadError
from recommendarr.shared.domain.webhooks import parse_webhook
from recommendarr.shared.resources import Resources
from recommendarr.shared.store import inbox, jobs

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 256 * 1024


async def read_capped_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body is larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def record_and_enqueue(
    resources: Resources, source: str, content_type: str, body: bytes, actor: Actor[..., None]
) -> Accepted:
    with resources.pool.connection() as conn, conn.transaction():
        inbox_id = inbox.record(conn, source, content_type, body)
        job_id = jobs.create(conn, f"webhook:{source}", user_id=None, subject_id=inbox_id)
    try:
        actor.send_with_options(args=(inbox_id,), job_id=job_id)
    except Exception:
        # The body is committed; the inbox reconciler sends it again, so it is not lost.
        log.exception(
            "could not enqueue inbox row %s; it stays 'received' for the reconciler", inbox_id
        )
    return Accepted(job_id=job_id, inbox_id=inbox_id)


async def accept(
    request: Request,
    source: str,
    body: bytes,
    content_type: str = "application/json",
    actor: Actor[..., None] = on_watch_event,
    validate: Callable[[bytes], object] | None = None,
) -> JSONResponse:
    """Validate with the same parser the actor uses, then record and enqueue: 202."""
    try:
        (validate or partial(parse_webhook, source))(body)
    except PayloadError as exc:
        raise HTTPException(400 if exc.field == "body" else 422, str(exc)) from exc
    accepted = await run_in_threadpool(
        record_and_enqueue, request.app.state.resources, source, content_type[:100], body, actor
    )
    return JSONResponse(accepted.model_dump(), status_code=202)


async def tautulli_webhook(request: Request) -> JSONResponse:
    check_webhook_token(request)
    body = await read_capped_body(request, MAX_BODY_BYTES)
    return await accept(request, "tautulli", body, request.headers.get("content-type", ""))


ROUTES = [
    (
        Endpoint(
            "POST",
            "/webhooks/tautulli",
            "Receive a Tautulli webhook (the recommended JSON template)",
            {202: Accepted},
            auth="webhook",
            params=(Param("token", "query", {"type": "string"}, description="webhook secret"),),
            raw_body="application/json",
            tags=("webhooks",),
        ),
        tautulli_webhook,
    ),
]
