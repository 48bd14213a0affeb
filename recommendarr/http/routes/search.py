"""GET /users/{id}/search: titles the user can play, by name."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from recommendarr.http.auth import visible_user
from recommendarr.http.openapi import Endpoint, Param
from recommendarr.http.params import path_int, query_int
from recommendarr.http.routes.recommendations import poster_url
from recommendarr.http.routes.users import USER_ID
from recommendarr.http.schemas import SearchHit, SearchResults
from recommendarr.shared.store import search

MAX_QUERY = 200


def user_search(request: Request) -> JSONResponse:
    user_id = path_int(request, "user_id")
    visible_user(request, user_id)
    query = (request.query_params.get("q") or "").strip()
    if not query:
        raise HTTPException(422, "query parameter 'q' is required")
    if len(query) > MAX_QUERY:
        raise HTTPException(422, f"query parameter 'q' is longer than {MAX_QUERY} characters")
    limit = query_int(request, "limit", 20, 1, 100)
    with request.app.state.resources.pool.connection() as conn:
        rows = search.titles_for_user(conn, user_id, query, limit)
    hits = [
        SearchHit(
            tmdb_id=r["tmdb_id"],
            media_type=r["media_type"],
            title=r["title"],
            year=r["year"],
            poster=poster_url(r["poster_path"]),
            watched=r["watched"],
        )
        for r in rows
    ]
    return JSONResponse(SearchResults(items=hits).model_dump(mode="json"))


ROUTES = [
    (
        Endpoint(
            "GET",
            "/users/{user_id}/search",
            "Titles in the user's libraries, by name",
            {200: SearchResults},
            "user",
            (
                USER_ID,
                Param(
                    "q",
                    "query",
                    {"type": "string", "minLength": 1, "maxLength": MAX_QUERY},
                    required=True,
                ),
                Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 100}),
            ),
            tags=("users",),
        ),
        user_search,
    ),
]
