"""POST /webhooks/tautulli: validate, record in the inbox, enqueue, answer 202."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from dramatiq import Actor
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from recommendarr.functions.on_watch_event import on_watch_event
from recommendarr.http.auth import check_webhook_token
from recommendarr.http.inbox_writer import DatabaseUnavailableError, InboxWriter
from recommendarr.http.openapi import Endpoint, Param
from recommendarr.http.schemas import Accepted
from recommendarr.shared.domain.events import PayloadError
from recommendarr.shared.domain.webhooks import parse_webhook

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 256 * 1024
RETRY_AFTER = {"Retry-After": "1"}


async def read_capped_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdecimal() and int(declared) > limit:
        raise HTTPException(413, f"body is larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


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
    writer: InboxWriter = request.app.state.inbox_writer
    try:
        accepted = await writer.submit(source, content_type[:100], body, actor)
    except DatabaseUnavailableError as exc:
        # Nothing was recorded: the sender must try again, and every sender we receive from
        # retries a 5xx. A 503 with Retry-After says so; a bare 500 reads as our bug.
        raise HTTPException(
            503, "the database is unavailable; nothing was recorded, send it again", RETRY_AFTER
        ) from exc
    return JSONResponse(accepted.model_dump(), status_code=202)


async def tautulli_webhook(request: Request) -> JSONResponse:
    check_webhook_token(request, "tautulli")
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
