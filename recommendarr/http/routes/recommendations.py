"""GET /users/{id}/recommendations: reads stored rows; never computes on the request path."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from recommendarr.http.auth import authenticate
from recommendarr.http.openapi import Endpoint, Param
from recommendarr.http.params import path_int, query_choice, query_int
from recommendarr.http.routes.users import USER_ID
from recommendarr.http.schemas import RecommendationList
from recommendarr.shared.db import read_once_more_on_a_dropped_connection
from recommendarr.shared.store import recommendations

MODES = ("tonight",)
POSTER_BASE = "https://image.tmdb.org/t/p/w342"


def poster_url(path: str | None) -> str | None:
    return f"{POSTER_BASE}{path}" if path else None


def user_recommendations(request: Request) -> Response:
    """The hot read path: a cached token lookup, then one statement that returns the body."""
    user_id = path_int(request, "user_id")
    if not authenticate(request).may_see(user_id):
        raise HTTPException(404, f"no user {user_id}")
    mode = query_choice(request, "mode", "tonight", MODES)
    limit = query_int(request, "limit", 10, 1, 50)
    body = read_once_more_on_a_dropped_connection(
        request.app.state.resources.read_pool,
        lambda conn: recommendations.response_json(conn, user_id, mode, limit, POSTER_BASE),
    )
    if body is None:
        raise HTTPException(404, f"no user {user_id}")
    return Response(body, media_type="application/json")


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
