"""GET /users/{id}/recommendations: reads stored rows; never computes on the request path.

Modes 'tonight', 'grab' and 'rediscover' read the lists rank_user stored; 'shuffle' draws a new
weighted sample of the user's scored candidates on every call. Every mode takes the same
filters, applied in the same single statement.
"""

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
from recommendarr.shared.domain.list_filters import (
    CONFIDENCE_LEVELS,
    MAX_GENRE_LENGTH,
    MAX_GENRES,
    YEAR_RANGE,
    InvalidFilterError,
    LibraryNotVisibleError,
    parse_filters,
)
from recommendarr.shared.store import recommendations

MODES = ("tonight", "grab", "rediscover", "shuffle")
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
    try:
        filters = parse_filters(request.query_params)
    except InvalidFilterError as exc:
        raise HTTPException(422, str(exc)) from exc
    pool: AsyncConnectionPool[AsyncConnection] = request.app.state.async_read_pool
    try:
        body = await read_async_once_more_on_a_dropped_connection(
            pool, recommendations.response_json_async, user_id, mode, limit, POSTER_BASE, filters
        )
    except LibraryNotVisibleError as exc:
        raise HTTPException(422, str(exc)) from exc
    if body is None:
        raise HTTPException(404, f"no user {user_id}")
    return Response(body, media_type="application/json")


GENRE_LIST = {"type": "string", "maxLength": MAX_GENRES * (MAX_GENRE_LENGTH + 1)}
TITLE_KEY = {"type": "string", "pattern": "^(movie|tv):[1-9][0-9]{0,9}$"}
YEAR = {"type": "integer", "minimum": YEAR_RANGE[0], "maximum": YEAR_RANGE[1]}

ROUTES = [
    (
        Endpoint(
            "GET",
            "/users/{user_id}/recommendations",
            "The user's explained picks: tonight, grab, rediscover, or a fresh shuffle; filterable",
            {200: RecommendationList},
            "user",
            (
                USER_ID,
                Param("mode", "query", {"type": "string", "enum": list(MODES)}),
                Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 50}),
                Param(
                    "library",
                    "query",
                    {"type": "integer", "minimum": 1},
                    description="only titles in this library (one the user can see, else 422)",
                ),
                Param(
                    "genres",
                    "query",
                    GENRE_LIST,
                    description="comma-separated genres; a title with any of them matches "
                    "(case-insensitive)",
                ),
                Param(
                    "exclude_genres",
                    "query",
                    GENRE_LIST,
                    description="comma-separated genres; titles with any of them are left out",
                ),
                Param("year_min", "query", YEAR, description="released in or after this year"),
                Param("year_max", "query", YEAR, description="released in or before this year"),
                Param(
                    "language",
                    "query",
                    {"type": "string", "pattern": "^[A-Za-z]{2}$"},
                    description="original language, ISO 639-1 (en, fr, ja...)",
                ),
                Param(
                    "min_confidence",
                    "query",
                    {"type": "string", "enum": list(CONFIDENCE_LEVELS)},
                    description="only picks with at least this confidence",
                ),
                Param(
                    "influenced_by",
                    "query",
                    TITLE_KEY,
                    description="only picks this watched title led to, e.g. movie:603",
                ),
                Param(
                    "exclude_influence",
                    "query",
                    TITLE_KEY,
                    description="leave out picks this watched title led to, e.g. tv:1396",
                ),
            ),
            tags=("recommendations",),
        ),
        user_recommendations,
    ),
]
