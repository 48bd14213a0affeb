"""GET /users/{id}/recommendations: reads stored rows; never computes on the request path."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from recommendarr.http.auth import authenticate_async
from recommendarr.http.openapi import Endpoint, Param
from recommendarr.http.params import path_int, query_choice, query_int
from recommendarr.http.routes.users import USER_ID
from recommendarr.http.schemas import RecommendationList
from recommendarr.shared.db import AsyncConnection, read_async_once_more_on_a_dropped_connection
from recommendarr.shared.store import recommendations

MODES = ("tonight",)
POSTER_BASE = "https://image.tmdb.org/t/p/w342"


def poster_url(path: str | None) -> str | None:
    return f"{POSTER_BASE}{path}" if path else None


async def user_recommendations(request: Request) -> Response:
    """The hot read path, on the event loop: a cached token lookup, then one statement that
    returns the finished body from an async pool."""
    user_id = path_int(request, "user_id")
    if not (await authenticate_async(request)).may_see(user_id):
        raise HTTPException(404, f"no user {user_id}")
    mode = query_choice(request, "mode", "tonight", MODES)
    limit = query_int(request, "limit", 10, 1, 50)
    pool: AsyncConnectionPool[AsyncConnection] = request.app.state.async_read_pool
    body = await read_async_once_more_on_a_dropped_connection(
        pool, recommendations.response_json_async, user_id, mode, limit, POSTER_BASE
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
