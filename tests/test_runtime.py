"""Start-up: generated secrets are printed once and stored hashed; the mode is logged."""

from __future__ import annotations

import gc
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from recommendarr.runtime import (
    YOUNG_COLLECTION_THRESHOLD,
    describe_mode,
    freeze_boot_objects,
    secret_hash,
)
from recommendarr.settings import Settings
from recommendarr.shared import db
from recommendarr.shared.embeddings import (
    BuiltinHashEmbeddings,
    OllamaEmbeddings,
    build_embedding_provider,
)
from recommendarr.shared.store import secrets


def make_settings(**values: Any) -> Settings:
    """Settings from arguments only: no .env file, whatever the working directory holds."""
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_generated_secret_is_printed_once_and_stored_hashed(
    conn: db.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    first = secret_hash(conn, "admin", None, "RECOMMENDARR_ADMIN_TOKEN")
    printed = capsys.readouterr().err
    token = printed.split("RECOMMENDARR_ADMIN_TOKEN to choose your own):")[1].split()[0]
    assert len(token) >= 43  # 256 bits, url-safe base64
    assert secrets.digest(token) == first
    stored = conn.execute("SELECT sha256 FROM app_secrets WHERE name = 'admin'").fetchone()
    assert stored is not None and bytes(stored["sha256"]) == first
    assert secret_hash(conn, "admin", None, "RECOMMENDARR_ADMIN_TOKEN") == first
    assert capsys.readouterr().err == ""


def test_configured_secret_wins(conn: db.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    chosen = secret_hash(
        conn, "webhook", SecretStr("mine-" + "x" * 30), "RECOMMENDARR_WEBHOOK_TOKEN"
    )
    assert chosen == secrets.digest("mine-" + "x" * 30)
    assert capsys.readouterr().err == ""


def test_mode_is_described() -> None:
    embedded = make_settings()
    assert "embedded PostgreSQL" in describe_mode(embedded, "serve")
    assert "threads in this process (no REDIS_URL)" in describe_mode(embedded, "serve")
    distributed = make_settings(database_url="postgresql://h/db", redis_url="redis://r")
    assert "enqueued to Redis" in describe_mode(distributed, "serve")
    assert "consuming from Redis" in describe_mode(distributed, "worker")


def test_settings_pick_the_embedding_provider() -> None:
    client = httpx.Client()
    builtin = build_embedding_provider(make_settings(embedding_dim=64), client)
    assert isinstance(builtin, BuiltinHashEmbeddings) and builtin.model_name == "builtin-hash-v1:64"
    ollama = build_embedding_provider(
        make_settings(embedding_provider="ollama", ollama_url="http://o:11434"), client
    )
    assert isinstance(ollama, OllamaEmbeddings) and ollama.model_name == "ollama:nomic-embed-text"
    with pytest.raises(ValueError, match="OLLAMA_URL"):
        build_embedding_provider(make_settings(embedding_provider="ollama"), client)
    client.close()


def test_what_start_up_built_is_kept_out_of_garbage_collection() -> None:
    gc.unfreeze()
    thresholds = gc.get_threshold()
    try:
        freeze_boot_objects()
        # Every module, class and function imported so far: a full collection skips them.
        assert gc.get_freeze_count() > 10_000
        assert len(gc.get_objects()) < gc.get_freeze_count()
        # Young collections wait for far more garbage than the default; the older ones keep
        # their rhythm.
        assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, *thresholds[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
