"""POST /webhooks/plex and /webhooks/jellyfin: validate, record in the inbox, enqueue, 202.

Plex posts multipart/form-data: the JSON is the `payload` field, often followed by a JPEG
`thumb`. Only the JSON is kept. Plex has no secret option, so the token rides in the URL.
"""

from __future__ import annotations

import json

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Message

from recommendarr.http.auth import check_webhook_token
from recommendarr.http.openapi import Endpoint, Param
from recommendarr.http.routes.webhooks import accept, read_capped_body
from recommendarr.http.schemas import Accepted

PLEX_MAX_BODY_BYTES = 10 * 1024 * 1024
JELLYFIN_MAX_BODY_BYTES = 256 * 1024
FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
JSON_TYPES = frozenset({"application/json", "text/json"})
# Plex sends one payload field and at most one thumbnail.
MAX_FORM_FIELDS = 8
MAX_FORM_FILES = 4
TOKEN_PARAM = Param("token", "query", {"type": "string"}, description="webhook secret")


async def plex_webhook(request: Request) -> JSONResponse:
    check_webhook_token(request, "plex")
    body = await read_capped_body(request, PLEX_MAX_BODY_BYTES)
    payload = await plex_payload(request, body)
    return await accept(request, "plex", payload, "application/json")


async def jellyfin_webhook(request: Request) -> JSONResponse:
    """JSON whatever the Content-Type says: the Generic destination sends text/plain."""
    check_webhook_token(request, "jellyfin")
    body = await read_capped_body(request, JELLYFIN_MAX_BODY_BYTES)
    return await accept(request, "jellyfin", body, request.headers.get("content-type") or "")


async def plex_payload(request: Request, body: bytes) -> bytes:
    """The webhook JSON: the `payload` form field, or the whole body when a relay sends JSON."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type in JSON_TYPES:
        return body
    if media_type not in FORM_TYPES:
        raise HTTPException(
            415, "Content-Type must be multipart/form-data (as Plex sends) or application/json"
        )
    async with replay(request, body).form(
        max_files=MAX_FORM_FILES,
        max_fields=MAX_FORM_FIELDS,
        max_part_size=PLEX_MAX_BODY_BYTES,
    ) as form:
        field = form.get("payload")
        if field is None:
            raise HTTPException(400, "payload: the form field with the webhook JSON is missing")
        payload = await field.read() if isinstance(field, UploadFile) else field.encode()
    check_json_object(payload)
    return payload


def replay(request: Request, body: bytes) -> Request:
    """The request again, its already read (and size-checked) body as the stream."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)


def check_json_object(payload: bytes) -> None:
    try:
        parsed = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HTTPException(400, f"payload: is not valid JSON ({exc})") from exc
    if not isinstance(parsed, dict):
        raise HTTPException(400, "payload: must be a JSON object")


ROUTES = [
    (
        Endpoint(
            "POST",
            "/webhooks/plex",
            "Receive a Plex Media Server webhook (multipart `payload`, or its JSON alone)",
            {202: Accepted},
            auth="webhook",
            params=(TOKEN_PARAM,),
            raw_body="multipart/form-data",
            tags=("webhooks",),
        ),
        plex_webhook,
    ),
    (
        Endpoint(
            "POST",
            "/webhooks/jellyfin",
            "Receive a Jellyfin webhook-plugin body (the recommended template or all properties)",
            {202: Accepted},
            auth="webhook",
            params=(TOKEN_PARAM,),
            raw_body="application/json",
            tags=("webhooks",),
        ),
        jellyfin_webhook,
    ),
]
