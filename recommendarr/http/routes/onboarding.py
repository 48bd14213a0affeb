"""GET/POST /users/{id}/onboarding/quiz: a new user's first taste, before any watch history."""

from __future__ import annotations

import json

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from recommendarr.functions.rank_user import rank_user
from recommendarr.http.auth import visible_user
from recommendarr.http.openapi import Endpoint
from recommendarr.http.params import path_int
from recommendarr.http.routes.recommendations import poster_url
from recommendarr.http.routes.users import USER_ID
from recommendarr.http.routes.webhooks import read_capped_body
from recommendarr.http.schemas import (
    ErrorResponse,
    Quiz,
    QuizAccepted,
    QuizAnswersIn,
    QuizAnswersOut,
    QuizTitleOut,
)
from recommendarr.shared.db import Connection
from recommendarr.shared.domain.onboarding import canonical_genres, pick_quiz_titles, unknown_genres
from recommendarr.shared.resources import Resources
from recommendarr.shared.store import jobs, onboarding

MAX_BODY_BYTES = 64 * 1024


def get_quiz(request: Request) -> JSONResponse:
    user_id = path_int(request, "user_id")
    visible_user(request, user_id)
    with request.app.state.resources.pool.connection() as conn:
        titles = pick_quiz_titles(onboarding.quiz_pool(conn, user_id))
        genres = onboarding.library_genres(conn, user_id)
        answers = onboarding.stored_answers(conn, user_id)
    quiz = Quiz(
        titles=[
            QuizTitleOut.model_validate(
                {
                    "tmdb_id": t.tmdb_id,
                    "media_type": t.media_type,
                    "title": t.title,
                    "year": t.year,
                    "poster": poster_url(t.poster_path),
                    "genres": list(t.genres),
                }
            )
            for t in titles
        ],
        genres=genres,
        answers=None if answers is None else QuizAnswersOut.model_validate(answers),
    )
    return JSONResponse(quiz.model_dump(mode="json"))


async def answer_quiz(request: Request) -> JSONResponse:
    user_id = path_int(request, "user_id")
    await run_in_threadpool(visible_user, request, user_id)
    answers = parse_answers(await read_capped_body(request, MAX_BODY_BYTES))
    resources: Resources = request.app.state.resources
    job_id, stored = await run_in_threadpool(save, resources, user_id, answers)
    # Sent only now that the answers are committed: the refresh must be able to read them.
    rank_user.send_with_options(args=(user_id,), job_id=job_id)
    return JSONResponse(
        QuizAccepted(job_id=job_id, answers=stored).model_dump(mode="json"), status_code=202
    )


def parse_answers(raw: bytes) -> QuizAnswersIn:
    """An empty body is a skipped quiz: no titles liked, no genre leanings."""
    if not raw.strip():
        return QuizAnswersIn()
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HTTPException(400, f"body is not valid JSON ({exc})") from exc
    try:
        return QuizAnswersIn.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise HTTPException(422, f"{field}: {first['msg']}") from exc


def save(resources: Resources, user_id: int, answers: QuizAnswersIn) -> tuple[int, QuizAnswersOut]:
    with resources.pool.connection() as conn, conn.transaction():
        liked = liked_item_ids(conn, user_id, answers)
        known = onboarding.library_genres(conn, user_id)
        unknown = unknown_genres(list(answers.genres), known)
        if unknown:
            raise HTTPException(
                422,
                f"genres: no title you can watch has the genre(s) {', '.join(unknown)}; "
                f"known: {', '.join(known) or 'none'}",
            )
        onboarding.save_answers(conn, user_id, liked, canonical_genres(answers.genres, known))
        job_id = jobs.create(conn, "rank_user", user_id=user_id, subject_id=user_id)
        stored = onboarding.stored_answers(conn, user_id)
    return job_id, QuizAnswersOut.model_validate(stored)


def liked_item_ids(conn: Connection, user_id: int, answers: QuizAnswersIn) -> list[int]:
    keys = list(dict.fromkeys((t.media_type, t.tmdb_id) for t in answers.liked))
    found = onboarding.visible_titles(conn, user_id, keys)
    unknown = [
        f"{media_type}:{tmdb_id}"
        for media_type, tmdb_id in keys
        if (media_type, tmdb_id) not in found
    ]
    if unknown:
        raise HTTPException(422, f"liked: unknown titles {', '.join(unknown)}")
    return [found[k] for k in keys]


ROUTES = [
    (
        Endpoint(
            "GET",
            "/users/{user_id}/onboarding/quiz",
            "The onboarding quiz: well-known titles across genres, the genres to rate, and the "
            "answers already given",
            {200: Quiz},
            "user",
            (USER_ID,),
            tags=("onboarding",),
        ),
        get_quiz,
    ),
    (
        Endpoint(
            "POST",
            "/users/{user_id}/onboarding/quiz",
            "Answer the onboarding quiz (replaces earlier answers) and rebuild the user's picks",
            {202: QuizAccepted, 400: ErrorResponse, 413: ErrorResponse},
            "user",
            (USER_ID,),
            body=QuizAnswersIn,
            tags=("onboarding",),
        ),
        answer_quiz,
    ),
]
