"""GET /users/{id}/recommendations: reads stored rows; never computes on the request path."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from recommendarr.http.auth import visible_user
from recommendarr.http.openapi import Endpoint, Param
from recommendarr.http.params import path_int, query_choice, query_int
from recommendarr.http.routes.users import USER_ID
from recommendarr.http.schemas import (
    Recommendation,
    RecommendationList,
    RecommendationMeta,
    UserRef,
)
from recommendarr.shared.store import profiles, recommendations

MODES = ("tonight",)
POSTER_BASE = "https://image.tmdb.org/t/p/w342"


def poster_url(path: str | None) -> str | None:
    return f"{POSTER_BASE}{path}" if path else None


def to_recommendation(row: dict[str, Any]) -> Recommendation:
    return Recommendation(
        rank=row["rank"],
        tmdb_id=row["tmdb_id"],
        media_type=row["media_type"],
        title=row["title"],
        year=row["year"],
        poster=poster_url(row["poster_path"]),
        score=row["score"],
        confidence=row["confidence"],
        explanation=row["explanation"],
        signals=row["signals"],
        influenced_by=row["influenced_by"],
    )


def user_recommendations(request: Request) -> JSONResponse:
    user_id = path_int(request, "user_id")
    user = visible_user(request, user_id)
    mode = query_choice(request, "mode", "tonight", MODES)
    limit = query_int(request, "limit", 10, 1, 50)
    with request.app.state.resources.pool.connection() as conn:
        rows = recommendations.read(conn, user_id, mode, limit)
        run = recommendations.run_meta(conn, user_id, mode)
        freshness = profiles.freshness(conn, user_id)
    meta = RecommendationMeta(
        user=UserRef(id=user_id, username=str(user["username"])),
        mode=mode,
        generated_at=run["generated_at"] if run else None,
        profile_freshness=freshness,
        total_candidates=int(run["total_candidates"]) if run else 0,
    )
    body = RecommendationList(items=[to_recommendation(r) for r in rows], meta=meta)
    return JSONResponse(body.model_dump(mode="json"))


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
