"""GET /group?users=1,2,3: what a room of people could watch together tonight.

Each result shows every member's happiness and reason, which reveals their taste: the caller
must be allowed to see every listed user. A user token sees only its own user, so in practice
this is the admin token's (the household owner's) endpoint; a user token listing anyone else
gets the same 404 "no user N" as for a missing user.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from recommendarr.http.auth import authenticate
from recommendarr.http.openapi import Endpoint, Param
from recommendarr.http.params import query_int
from recommendarr.http.routes.recommendations import poster_url
from recommendarr.http.schemas import GroupMember, GroupPick, GroupPicks, UserRef
from recommendarr.shared.cached_titles import CachedTitles
from recommendarr.shared.store import group

MIN_MEMBERS, MAX_MEMBERS = 2, 8


def group_night(request: Request) -> JSONResponse:
    principal = authenticate(request)
    user_ids = parse_users(request.query_params.get("users"))
    for user_id in user_ids:
        if not principal.may_see(user_id):
            raise HTTPException(404, f"no user {user_id}")
    limit = query_int(request, "limit", 10, 1, 50)
    resources = request.app.state.resources
    with resources.pool.connection() as conn:
        found = group.members(conn, user_ids)
        missing = [u for u in user_ids if u not in {int(m["id"]) for m in found}]
        if missing:
            raise HTTPException(404, f"no user {missing[0]}")
        cached = CachedTitles.begin(
            conn,
            resources.vectors,
            resources.facts,
            resources.relations,
            resources.embedder.model_name,
        )
        rows = group.picks(conn, found, limit, cached)
    picks = [
        GroupPick(
            rank=n,
            tmdb_id=r["tmdb_id"],
            media_type=r["media_type"],
            title=r["title"],
            year=r["year"],
            poster=poster_url(r["poster_path"]),
            least_happiness=r["least"],
            mean_happiness=r["mean"],
            members=[GroupMember.model_validate(m) for m in r["members"]],
        )
        for n, r in enumerate(rows, start=1)
    ]
    answer = GroupPicks(
        users=[UserRef(id=m["id"], username=m["username"]) for m in found],
        items=picks,
        message=None if picks else why_empty(found),
    )
    return JSONResponse(answer.model_dump(mode="json"))


def parse_users(raw: str | None) -> list[int]:
    if raw is None or not raw.strip():
        raise HTTPException(422, "query parameter 'users' is required: user ids like 1,2,3")
    user_ids: list[int] = []
    for part in raw.split(","):
        text = part.strip()
        if not text.isascii() or not text.isdigit() or len(text) > 18 or int(text) == 0:
            raise HTTPException(
                422, f"query parameter 'users' must list positive user ids, got {text[:40]!r}"
            )
        if int(text) in user_ids:
            raise HTTPException(422, f"query parameter 'users' lists user {int(text)} twice")
        user_ids.append(int(text))
    if not MIN_MEMBERS <= len(user_ids) <= MAX_MEMBERS:
        raise HTTPException(
            422,
            f"query parameter 'users' must list {MIN_MEMBERS} to {MAX_MEMBERS} users, "
            f"got {len(user_ids)}",
        )
    return user_ids


def why_empty(found: list[dict[str, object]]) -> str:
    unranked = [str(m["username"]) for m in found if not m["ranked"]]
    if unranked:
        verb = "has" if len(unranked) == 1 else "have"
        return (
            f"no title works for everyone yet: {', '.join(unranked)} {verb} no scored titles "
            "(their ranking has not run)"
        )
    return (
        "no title works for everyone: each title one of you could watch is one another "
        "has seen, hidden or cannot see"
    )


ROUTES = [
    (
        Endpoint(
            "GET",
            "/group",
            "Titles a group can watch together, ranked by its least happy member (needs the "
            "right to see every listed user: in practice the admin token)",
            {200: GroupPicks},
            "user",
            (
                Param(
                    "users",
                    "query",
                    {"type": "string", "pattern": "^[0-9]{1,18}(,[0-9]{1,18}){1,7}$"},
                    required=True,
                    description="2 to 8 distinct user ids, comma-separated",
                ),
                Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 50}),
            ),
            tags=("recommendations",),
        ),
        group_night,
    ),
]
