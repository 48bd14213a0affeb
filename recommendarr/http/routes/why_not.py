"""GET /users/{id}/why-not/{media_type}/{tmdb_id}: what keeps a title out of the user's picks."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse

from recommendarr.http.auth import visible_user
from recommendarr.http.openapi import Endpoint
from recommendarr.http.params import path_int
from recommendarr.http.routes.feedback import TITLE_PARAMS, path_title, unknown_title
from recommendarr.http.schemas import WhyNotOut
from recommendarr.shared.domain.why_not import why_not
from recommendarr.shared.store import why_not as why_not_store


def explain_absence(request: Request) -> JSONResponse:
    user_id = path_int(request, "user_id")
    visible_user(request, user_id)
    media_type, tmdb_id = path_title(request)
    model = request.app.state.resources.embedder.model_name
    with request.app.state.resources.pool.connection() as conn:
        row = why_not_store.item(conn, media_type, tmdb_id)
        if row is None:
            raise unknown_title(media_type, tmdb_id)
        inputs = why_not_store.gather(conn, user_id, row, model, datetime.now(UTC))
    answer = why_not(inputs)
    hint = {
        "method": "POST",
        "path": f"/api/v1/filters/influences/{user_id}",
        "body": {
            "kind": "title",
            "key": {"media_type": media_type, "tmdb_id": tmdb_id},
            "action": "allow",
        },
    }
    body = WhyNotOut.model_validate(
        {
            "tmdb_id": tmdb_id,
            "media_type": media_type,
            "title": row["title"],
            "year": row["year"],
            "summary": answer.summary,
            "signals": [asdict(s) for s in answer.signals],
            "rank": answer.rank,
            "happiness": answer.happiness,
            "can_override": answer.can_override,
            "override": hint if answer.can_override else None,
        }
    )
    return JSONResponse(body.model_dump(mode="json"))


ROUTES = [
    (
        Endpoint(
            "GET",
            "/users/{user_id}/why-not/{media_type}/{tmdb_id}",
            "Why a title is not among the user's picks: every signal holding it back",
            {200: WhyNotOut},
            "user",
            TITLE_PARAMS,
            tags=("recommendations",),
        ),
        explain_absence,
    ),
]
