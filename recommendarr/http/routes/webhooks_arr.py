"""POST /webhooks/radarr and /webhooks/sonarr: a Radarr/Sonarr "Webhook" connection.

Put the webhook secret in the connection's Password field (any username), or in the URL as
?token=. Radarr/Sonarr can be set to PUT instead of POST; both are accepted.
"""

from __future__ import annotations

from functools import partial

from starlette.requests import Request
from starlette.responses import JSONResponse

from recommendarr.functions.on_arr_event import on_arr_event
from recommendarr.http.auth import check_webhook_token
from recommendarr.http.openapi import Endpoint, Param
from recommendarr.http.routes.webhooks import MAX_BODY_BYTES, accept, read_capped_body
from recommendarr.http.schemas import Accepted
from recommendarr.shared.domain.arr import parse_arr_webhook


async def receive(request: Request, source: str) -> JSONResponse:
    check_webhook_token(request, source)
    body = await read_capped_body(request, MAX_BODY_BYTES)
    return await accept(
        request,
        source,
        body,
        request.headers.get("content-type", "application/json"),
        actor=on_arr_event,
        validate=partial(parse_arr_webhook, source),
    )


async def radarr_webhook(request: Request) -> JSONResponse:
    return await receive(request, "radarr")


async def sonarr_webhook(request: Request) -> JSONResponse:
    return await receive(request, "sonarr")


def endpoint(method: str, source: str, product: str) -> Endpoint:
    return Endpoint(
        method,
        f"/webhooks/{source}",
        f"Receive a {product} Webhook connection event (Grab, Download, Added, Test)",
        {202: Accepted},
        auth="webhook",
        params=(
            Param(
                "token",
                "query",
                {"type": "string"},
                description="webhook secret (or send it as the HTTP Basic password)",
            ),
        ),
        raw_body="application/json",
        tags=("webhooks",),
    )


ROUTES = [
    (endpoint("POST", "radarr", "Radarr"), radarr_webhook),
    (endpoint("PUT", "radarr", "Radarr"), radarr_webhook),
    (endpoint("POST", "sonarr", "Sonarr"), sonarr_webhook),
    (endpoint("PUT", "sonarr", "Sonarr"), sonarr_webhook),
]
