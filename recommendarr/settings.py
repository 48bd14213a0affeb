"""The one settings model. Nothing else in the project reads os.environ."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    log_level: str = Field(
        default="INFO", validation_alias=AliasChoices("RECOMMENDARR_LOG_LEVEL", "log_level")
    )

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def embedded_broker(self) -> bool:
        return self.redis_url is None

    @property
    def embedding_model_name(self) -> str:
        """The name stored beside every vector: switching provider or model forces re-embedding."""
        if self.embedding_provider == "ollama":
            return f"ollama:{self.embedding_model}"
        return f"builtin-hash-v1:{self.embedding_dim}"


def load_settings() -> Settings:
    return Settings()
