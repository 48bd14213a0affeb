"""The one settings model. Nothing else in the project reads os.environ."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ArrInstance(BaseModel):
    """One Radarr or Sonarr (several are allowed, e.g. Sonarr for TV and Sonarr for anime)."""

    name: str
    url: str
    api_key: SecretStr
    quality_profile_id: int = 1
    root_folder: str = ""
    domain: Literal["movies", "tv", "anime"] = "movies"


MIN_SECRET_CHARS = 22


def env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("recommendarr", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "database_url")
    )
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "redis_url")
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        validation_alias=AliasChoices("RECOMMENDARR_DATA_DIR", "data_dir"),
    )
    admin_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("RECOMMENDARR_ADMIN_TOKEN", "admin_token")
    )
    webhook_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("RECOMMENDARR_WEBHOOK_TOKEN", "webhook_token"),
    )
    tmdb_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TMDB_API_KEY", "tmdb_api_key")
    )
    tmdb_base_url: str = Field(
        default="https://api.themoviedb.org/3",
        validation_alias=env("TMDB_BASE_URL", "tmdb_base_url"),
    )
    tmdb_cache_days: int = Field(default=7, ge=0, le=90, validation_alias=env("TMDB_CACHE_DAYS"))
    tmdb_requests_per_second: float = Field(
        default=20.0, gt=0, le=50, validation_alias=env("TMDB_REQUESTS_PER_SECOND")
    )
    plex_url: str | None = Field(default=None, validation_alias=env("PLEX_URL", "plex_url"))
    plex_token: SecretStr | None = Field(
        default=None, validation_alias=env("PLEX_TOKEN", "plex_token")
    )
    plex_tv_url: str = Field(default="https://plex.tv", validation_alias=env("PLEX_TV_URL"))
    tautulli_url: str | None = Field(default=None, validation_alias=env("TAUTULLI_URL"))
    tautulli_api_key: SecretStr | None = Field(
        default=None, validation_alias=env("TAUTULLI_API_KEY")
    )
    jellyfin_url: str | None = Field(default=None, validation_alias=env("JELLYFIN_URL"))
    jellyfin_api_key: SecretStr | None = Field(
        default=None, validation_alias=env("JELLYFIN_API_KEY")
    )
    radarr: list[ArrInstance] = Field(
        default_factory=list, validation_alias=env("RADARR_INSTANCES")
    )
    sonarr: list[ArrInstance] = Field(
        default_factory=list, validation_alias=env("SONARR_INSTANCES")
    )
    seerr_url: str | None = Field(default=None, validation_alias=env("SEERR_URL"))
    seerr_api_key: SecretStr | None = Field(default=None, validation_alias=env("SEERR_API_KEY"))
    ollama_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OLLAMA_URL", "ollama_url")
    )
    embedding_provider: Literal["builtin", "ollama"] = Field(
        default="builtin",
        validation_alias=AliasChoices("RECOMMENDARR_EMBEDDING_PROVIDER", "embedding_provider"),
    )
    embedding_model: str = Field(
        default="nomic-embed-text",
        validation_alias=AliasChoices("RECOMMENDARR_EMBEDDING_MODEL", "embedding_model"),
    )
    embedding_dim: int = Field(
        default=768,
        ge=16,
        le=4096,
        validation_alias=AliasChoices("RECOMMENDARR_EMBEDDING_DIM", "embedding_dim"),
    )
    host: str = Field(
        default="127.0.0.1", validation_alias=AliasChoices("RECOMMENDARR_HOST", "host")
    )
    port: int = Field(default=8000, validation_alias=AliasChoices("RECOMMENDARR_PORT", "port"))
    worker_threads: int = Field(
        default=4,
        ge=1,
        le=64,
        validation_alias=AliasChoices("RECOMMENDARR_WORKER_THREADS", "worker_threads"),
    )
    db_pool_size: int = Field(
        default=10, ge=1, le=200, validation_alias=AliasChoices("RECOMMENDARR_DB_POOL_SIZE")
    )
    # BLAS threads per process that runs actors (numpy's matrix products): actor threads are
    # the parallelism; more only helps a process with cores of its own.
    numeric_threads: int = Field(
        default=1, ge=1, le=256, validation_alias=AliasChoices("RECOMMENDARR_NUMERIC_THREADS")
    )
    # Titles whose vectors (3 KB each at 768 dimensions), facts and TMDB related titles (about
    # 1 KB for 40) a worker keeps in memory: a whole household library fits in the default.
    vector_cache_size: int = Field(
        default=20_000,
        ge=0,
        le=10_000_000,
        validation_alias=AliasChoices("RECOMMENDARR_VECTOR_CACHE_SIZE"),
    )
    # A ranking that finds most of its titles unknown to the server's taste model asks for one
    # early refit, at least this long (or five fits' time) after the last fit: a server that
    # keeps growing (a history backfill) is not refitting and re-ranking everyone without pause.
    refit_min_interval_s: float = Field(
        default=60.0, ge=0, le=86_400, validation_alias=env("RECOMMENDARR_REFIT_MIN_INTERVAL_S")
    )
    webhook_rate_per_second: float = Field(
        default=2000.0, gt=0, validation_alias=env("RECOMMENDARR_WEBHOOK_RATE_LIMIT")
    )
    webhook_burst: int = Field(
        default=4000, ge=1, validation_alias=env("RECOMMENDARR_WEBHOOK_BURST")
    )
    log_level: str = Field(
        default="INFO", validation_alias=AliasChoices("RECOMMENDARR_LOG_LEVEL", "log_level")
    )
    # Comma-separated modules of actors declared outside recommendarr.functions (a site's own,
    # or the chaos benchmark's poison pill); every process that runs actors imports them.
    extra_actor_modules: str = Field(
        default="",
        validation_alias=AliasChoices("RECOMMENDARR_EXTRA_ACTOR_MODULES", "extra_actor_modules"),
    )

    @field_validator("admin_token", "webhook_token")
    @classmethod
    def strong_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # 22 URL-safe characters carry 128 bits when random; shorter cannot, whatever it is.
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_CHARS:
            raise ValueError(
                f"must be at least {MIN_SECRET_CHARS} characters (128 bits); generate one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def embedded_broker(self) -> bool:
        return self.redis_url is None

    @property
    def extra_actor_module_names(self) -> tuple[str, ...]:
        return tuple(n.strip() for n in self.extra_actor_modules.split(",") if n.strip())

    @property
    def embedding_model_name(self) -> str:
        """The name stored beside every vector: switching provider or model forces re-embedding."""
        if self.embedding_provider == "ollama":
            return f"ollama:{self.embedding_model}"
        return f"builtin-hash-v1:{self.embedding_dim}"


def load_settings() -> Settings:
    return Settings()
