"""GET /users/{id}/recommendations: reads stored rows; never computes on the request path."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from recommendarr.http.auth import authenticate
from recommendarr.http.openapi import Endpoint, Param
from recommendarr.http.params import path_int, query_choice, query_int
from recommendarr.http.routes.users import USER_ID
from recommendarr.http.schemas import (
    RecommendationList,
)
from recommendarr.shared.store import recommendations

MODES = ("tonight",)
POSTER_BASE = "https://image.tmdb.org/t/p/w342"


def poster_url(path: str | None) -> str | None:
    return f"{POSTER_BASE}{path}" if path else None


def to_recommendation(row: dict[str, Any]) -> dict[str, Any]:
    """Our own stored rows, shaped as the Recommendation schema (tests hold the two together)."""
    return {
        "rank": row["rank"],
        "tmdb_id": row["tmdb_id"],
        "media_type": row["media_type"],
        "title": row["title"],
        "year": row["year"],
        "poster": poster_url(row["poster_path"]),
        "score": row["score"],
        "confidence": row["confidence"],
        "explanation": row["explanation"],
        "signals": row["signals"],
        "influenced_by": row["influenced_by"],
    }


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def user_recommendations(request: Request) -> JSONResponse:
    """The hot read path: a cached token lookup, one connection, two indexed queries."""
    user_id = path_int(request, "user_id")
    if not authenticate(request).may_see(user_id):
        raise HTTPException(404, f"no user {user_id}")
    mode = query_choice(request, "mode", "tonight", MODES)
    limit = query_int(request, "limit", 10, 1, 50)
    with request.app.state.resources.pool.connection() as conn:
        head = recommendations.run_head(conn, user_id, mode)
        if head is None:
            raise HTTPException(404, f"no user {user_id}")
        rows = recommendations.read(conn, user_id, mode, limit)
    meta = {
        "user": {"id": user_id, "username": head["username"]},
        "mode": mode,
        "generated_at": iso(head["generated_at"]),
        "profile_freshness": iso(head["profile_built_at"]),
        "total_candidates": head["total_candidates"] or 0,
    }
    return JSONResponse({"items": [to_recommendation(r) for r in rows], "meta": meta})


ROUTES = [
    (
        Endpoint(
            "GET",
            "/users/{user_id}/recommendations",
            "The user's explained picks",
            {200: RecommendationList},
            "user",
            (
                USER_ID,
                Param("mode", "query", {"type": "string", "enum": list(MODES)}),
                Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 50}),
            ),
            tags=("recommendations",),
        ),
        user_recommendations,
    ),
]
