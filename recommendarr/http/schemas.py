"""Request and response shapes; the OpenAPI document is generated from these."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError


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
    rank: int = Field(
        description="position in this answer, 1..n (renumbered after filters; shuffle: draw order)"
    )
    tmdb_id: int
    media_type: Literal["movie", "tv"]
    title: str
    year: int | None
    poster: str | None
    score: float
    confidence: Literal["high", "medium", "low"] = Field(
        description="shuffle: the stored list's confidence when the title is in one, else from "
        "happiness (>= 0.8 high, >= 0.5 medium)"
    )
    explanation: str = Field(description="shuffle: the title's stored one-line reason")
    signals: dict[str, float] = Field(description="shuffle: {happiness: 0..1}")
    influenced_by: list[Influence] = Field(
        description="watched titles that led here; shuffle borrows them from the stored lists"
    )


class UserRef(BaseModel):
    id: int
    username: str


class RecommendationMeta(BaseModel):
    user: UserRef
    mode: Literal["tonight", "grab", "rediscover", "shuffle"]
    generated_at: datetime | None = Field(
        description="when the list was ranked (shuffle: when this sample was drawn); null if never"
    )
    profile_freshness: datetime | None
    total_candidates: int = Field(description="titles the list was picked from, before filters")


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


# Feedback, influence overrides and why-not (the user's say over their own picks).

TmdbId = Annotated[int, Field(gt=0, le=2**31 - 1)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class TitleRef(BaseModel):
    media_type: Literal["movie", "tv"]
    tmdb_id: TmdbId


class FeedbackRequest(BaseModel):
    media_type: Literal["movie", "tv"]
    tmdb_id: TmdbId
    kind: Literal["up", "down", "dismiss", "hide"]
    months: int | None = Field(
        default=None, ge=1, le=24, description="only for kind 'hide'; 3 when left out"
    )


class FeedbackOut(BaseModel):
    media_type: Literal["movie", "tv"]
    tmdb_id: int
    title: str
    year: int | None
    kind: Literal["up", "down", "dismiss", "hide"]
    until: datetime | None
    created_at: datetime


class FeedbackList(BaseModel):
    items: list[FeedbackOut]


class FeedbackCleared(BaseModel):
    media_type: Literal["movie", "tv"]
    tmdb_id: int
    cleared: list[Literal["up", "down", "dismiss", "hide"]]


class InfluenceOverrideRequest(BaseModel):
    kind: Literal["genre", "person", "title"]
    key: TitleRef | Name = Field(
        description="a genre name, a person's name, or {media_type, tmdb_id} for a title"
    )
    action: Literal["boost", "suppress", "block", "allow"] = Field(
        description="allow ('recommend it anyway') applies to titles only"
    )


class InfluenceOverrideOut(BaseModel):
    id: int
    kind: Literal["genre", "person", "title"]
    key: TitleRef | str
    label: str
    action: Literal["boost", "suppress", "block", "allow"]
    created_at: datetime


class OverrideRef(BaseModel):
    id: int
    action: Literal["boost", "suppress", "block", "allow"]


class NamedInfluence(BaseModel):
    name: str
    weight: float
    override: OverrideRef | None


class TitleInfluence(BaseModel):
    tmdb_id: int
    media_type: Literal["movie", "tv"]
    title: str
    year: int | None
    weight: float
    override: OverrideRef | None


class DomainInfluences(BaseModel):
    domain: str
    genres: list[NamedInfluence]
    people: list[NamedInfluence]
    titles: list[TitleInfluence]


class InfluenceList(BaseModel):
    user_id: int
    domains: list[DomainInfluences]
    overrides: list[InfluenceOverrideOut]


class OverrideDeleted(BaseModel):
    id: int
    deleted: bool


class WhyNotSignal(BaseModel):
    signal: str
    value: float
    text: str
    until: datetime | None = None


class OverrideHint(BaseModel):
    method: Literal["POST"]
    path: str
    body: InfluenceOverrideRequest


class WhyNotOut(BaseModel):
    tmdb_id: int
    media_type: Literal["movie", "tv"]
    title: str
    year: int | None
    summary: str
    signals: list[WhyNotSignal]
    rank: int | None = Field(description="its position in the user's tonight picks, if any")
    happiness: float | None = Field(description="0..1: the user's own percentile, if scored")
    can_override: bool
    override: OverrideHint | None = Field(description="the request that recommends it anyway")


class GroupMember(BaseModel):
    user_id: int
    username: str
    happiness: float = Field(description="0..1: this member's own percentile for the title")
    reason: str


class GroupPick(BaseModel):
    rank: int
    tmdb_id: int
    media_type: Literal["movie", "tv"]
    title: str
    year: int | None
    poster: str | None
    least_happiness: float = Field(description="the least happy member's happiness: the ranking")
    mean_happiness: float = Field(description="the members' mean happiness: breaks ties")
    members: list[GroupMember] = Field(description="every member, in the order they were listed")


class GroupPicks(BaseModel):
    users: list[UserRef]
    items: list[GroupPick]
    message: str | None = Field(description="why the list is empty, when it is")


GenreName = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[^\x00-\x1f\x7f]+$")]
Slider = Annotated[float, Field(ge=-1.0, le=1.0)]


class QuizAnswersIn(BaseModel):
    liked: list[TitleRef] = Field(default_factory=list, max_length=200)
    genres: dict[GenreName, Slider] = Field(
        default_factory=dict,
        max_length=100,
        description="genre -> slider from -1 (never) to 1 (love it); genres as GET lists them",
    )


class QuizAnswersOut(BaseModel):
    liked: list[TitleRef]
    genres: dict[str, float]
    answered_at: datetime


class QuizTitleOut(BaseModel):
    tmdb_id: int
    media_type: Literal["movie", "tv"]
    title: str
    year: int | None
    poster: str | None
    genres: list[str]


class Quiz(BaseModel):
    titles: list[QuizTitleOut] = Field(description="about 20 well-known titles across genres")
    genres: list[str] = Field(description="every genre in the libraries the user can see")
    answers: QuizAnswersOut | None = Field(description="the answers already given, if any")


class QuizAccepted(BaseModel):
    job_id: int = Field(description="the profile refresh; GET /api/v1/jobs/{id} follows it")
    state: str = "queued"
    answers: QuizAnswersOut


# Taste settings: how much of a user's history shapes their picks, and from which domains.

WINDOW_DESCRIPTION = "months of history that shape the picks: 3, 6 or 12; null for all of it"
BLEND_DESCRIPTION = "when true, the movies, tv and anime histories all shape every domain's picks"


class TasteSettingsOut(BaseModel):
    history_window_months: Literal[3, 6, 12] | None = Field(description=WINDOW_DESCRIPTION)
    cross_domain_blend: bool = Field(description=BLEND_DESCRIPTION)


def partial_update_schema(schema: dict[str, Any]) -> None:
    """A left-out field keeps its stored value, so the document shows no defaults."""
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for prop in properties.values():
            if isinstance(prop, dict):
                prop.pop("default", None)
    schema["minProperties"] = 1


class TasteSettingsPatch(BaseModel):
    """Either field or both; a field left out keeps its value."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=partial_update_schema)

    history_window_months: Literal[3, 6, 12] | None = Field(
        default=None, description=WINDOW_DESCRIPTION
    )
    cross_domain_blend: bool = Field(default=False, description=BLEND_DESCRIPTION)

    # Checked by hand so that 3.0, "3", true or null do not slip through lax coercion, and the
    # 422 says which values are allowed.
    @field_validator("history_window_months", mode="before")
    @classmethod
    def window_choice(cls, value: object) -> object:
        if value is None or (type(value) is int and value in (3, 6, 12)):
            return value
        raise PydanticCustomError("window_choice", "must be 3, 6, 12 or null")

    @field_validator("cross_domain_blend", mode="before")
    @classmethod
    def strict_bool(cls, value: object) -> object:
        if type(value) is bool:
            return value
        raise PydanticCustomError("strict_bool", "must be true or false")
