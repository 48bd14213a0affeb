"""Request and response shapes; the OpenAPI document is generated from these."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    status: int
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class Accepted(BaseModel):
    job_id: int
    inbox_id: int | None = None
    state: str = "queued"


class JobOut(BaseModel):
    id: int
    kind: str
    state: Literal["queued", "running", "retrying", "done", "failed"]
    attempts: int
    error: str | None
    result: dict[str, object] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class UserOut(BaseModel):
    id: int
    username: str
    friendly_name: str | None
    plex_user_id: str | None
    tautulli_user_id: str | None
    jellyfin_user_id: str | None
    is_owner: bool


class UserList(BaseModel):
    users: list[UserOut]


class TokenIssued(BaseModel):
    token_id: int
    user_id: int
    token: str = Field(description="shown once; only its hash is stored")


class TokenRequest(BaseModel):
    label: str = Field(default="", max_length=100)


class Influence(BaseModel):
    tmdb_id: int | None
    media_type: str | None
    title: str
    similarity: float
    finished: bool


class Recommendation(BaseModel):
    rank: int
    tmdb_id: int
    media_type: Literal["movie", "tv"]
    title: str
    year: int | None
    poster: str | None
    score: float
    confidence: Literal["high", "medium", "low"]
    explanation: str
    signals: dict[str, float]
    influenced_by: list[Influence]


class UserRef(BaseModel):
    id: int
    username: str


class RecommendationMeta(BaseModel):
    user: UserRef
    mode: str
    generated_at: datetime | None
    profile_freshness: datetime | None
    total_candidates: int


class RecommendationList(BaseModel):
    items: list[Recommendation]
    meta: RecommendationMeta


class HistoryEntry(BaseModel):
    id: int
    tmdb_id: int
    media_type: str
    title: str
    year: int | None
    action: str
    progress: float | None
    duration_s: int | None
    rating: float | None
    occurred_at: datetime
    source: str


class HistoryList(BaseModel):
    items: list[HistoryEntry]
    next_before: int | None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: str
    broker: str
    mode: str
    queues: dict[str, int]
    inbox_unfinished: int
    jobs: dict[str, int]


class SearchHit(BaseModel):
    tmdb_id: int
    media_type: Literal["movie", "tv"]
    title: str
    year: int | None
    poster: str | None
    watched: bool


class SearchResults(BaseModel):
    items: list[SearchHit]


class AdminJob(BaseModel):
    id: int
    kind: str
    user_id: int | None
    subject_id: int | None
    state: str
    attempts: int
    error: str | None
    result: dict[str, object] | None
    actor: str | None
    args: list[object] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class AdminJobList(BaseModel):
    jobs: list[AdminJob]
    next_before: int | None
