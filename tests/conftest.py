"""Shared fixtures: one real PostgreSQL (embedded, or TEST_DATABASE_URL) and the StubBroker."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# The broker is chosen when recommendarr.broker is imported: tests use the StubBroker
# unless a test starts its own processes with REDIS_URL.
os.environ.pop("REDIS_URL", None)

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from pydantic import SecretStr
from starlette.testclient import TestClient

from recommendarr import functions as _functions  # noqa: F401 - declares every actor
from recommendarr.broker import QUEUES, broker
from recommendarr.http.app import create_app
from recommendarr.http.auth import SecretHashes
from recommendarr.runtime import Runtime
from recommendarr.settings import Settings
from recommendarr.shared import db, resources
from recommendarr.shared.store import secrets

FIXTURES = Path(__file__).parent / "fixtures"
ADMIN_TOKEN = "test-admin-token-0123456789abcdef0123456789"
WEBHOOK_TOKEN = "test-webhook-token-0123456789abcdef012345"
TABLES = (
    "item_relations, trending_items, "
    "influence_overrides, "
    "onboarding_answers, "
    "profile_refresh_requests, rank_requests, library_changes, title_changes, "
    "taste_model_requests, "
    "candidate_scores, candidate_happiness, taste_models, integration_checks, tmdb_cache, "
    "title_aliases, arr_items, "
    "item_availability, grab_requests, "
    "jobs, feedback, recommendations, recommendation_runs, taste_profiles, watch_events, "
    "inbox, library_items, item_embeddings, items, user_library_access, libraries, servers, "
    "user_tokens, users, app_secrets"
)


def fixture_bytes(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        return configured
    # A short path: the server's unix socket lives in it and socket paths are length-limited.
    return db.start_temporary_postgres("rcm-pg-")


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        redis_url=None,
        data_dir=tmp_path_factory.mktemp("data"),
        admin_token=SecretStr(ADMIN_TOKEN),
        webhook_token=SecretStr(WEBHOOK_TOKEN),
        embedding_dim=768,
        worker_threads=2,
    )


@pytest.fixture(scope="session")
def session_resources(settings: Settings) -> Iterator[resources.Resources]:
    built = resources.build(settings)
    resources.install(built)
    yield built
    resources.uninstall()
    built.close()


@pytest.fixture
def res(session_resources: resources.Resources) -> Iterator[resources.Resources]:
    """A clean database and empty queues for every test."""
    with session_resources.pool.connection() as conn:
        conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        conn.commit()
    broker.flush_all()
    resources.install(session_resources)
    yield session_resources


@pytest.fixture
def conn(res: resources.Resources) -> Iterator[db.Connection]:
    with res.pool.connection() as connection:
        yield connection


@pytest.fixture
def worker(res: resources.Resources) -> Iterator[dramatiq.Worker]:
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    yield worker
    worker.stop()


def drain() -> None:
    """Wait until every queue is empty and nothing is being processed (chains included)."""
    assert isinstance(broker, StubBroker)
    for _ in range(20):
        for queue in QUEUES:
            broker.join(queue, timeout=30_000, fail_fast=True)
        if all(broker.queues[q].qsize() == 0 for q in QUEUES):
            return
    raise AssertionError("queues did not settle")


def queued() -> dict[str, int]:
    assert isinstance(broker, StubBroker)
    return {q: broker.queues[q].qsize() for q in QUEUES}


def run_queued() -> None:
    """Run what is queued in this thread, in order, until nothing is left (no worker threads)."""
    assert isinstance(broker, StubBroker)
    for _ in range(10_000):
        for queue in QUEUES:
            q = broker.queues[queue]
            if not q.empty():
                message = dramatiq.Message.decode(q.get_nowait())
                try:
                    broker.get_actor(message.actor_name)(*message.args, **message.kwargs)
                finally:
                    q.task_done()
                break
        else:
            return
    raise AssertionError("messages kept coming")


# It records that title rows were written (a stale title fetched again is rewritten with the
# same facts), not what the server holds.
WRITE_LOGS = frozenset({"title_changes"})


def table_counts(conn: db.Connection) -> dict[str, Any]:
    names = [t.strip() for t in TABLES.split(",") if t.strip() not in WRITE_LOGS]
    counts = {}
    for name in names:
        row = conn.execute(f"SELECT count(*) AS n FROM {name}").fetchone()
        assert row is not None
        counts[name] = row["n"]
    return counts


@pytest.fixture
def client(res: resources.Resources, settings: Settings) -> Iterator[TestClient]:
    runtime = Runtime(
        resources=res,
        secret_hashes=SecretHashes(
            admin=secrets.digest(ADMIN_TOKEN), webhook=secrets.digest(WEBHOOK_TOKEN)
        ),
        worker=None,
    )
    with TestClient(create_app(settings, runtime=runtime)) as test_client:
        yield test_client


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
