"""POST /users/{id}/grabs: access rules, routing answers and the job it starts."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Literal

import httpx
import httpx2
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from recommendarr.http.app import create_app
from recommendarr.http.auth import SecretHashes
from recommendarr.runtime import Runtime
from recommendarr.settings import ArrInstance, Settings
from recommendarr.shared import db, resources
from recommendarr.shared.clients.arr import RadarrClient, SonarrClient
from recommendarr.shared.domain.item_text import ItemFacts
from recommendarr.shared.integrations import Integrations
from recommendarr.shared.store import items, secrets, users
from tests.conftest import ADMIN_TOKEN, WEBHOOK_TOKEN, admin_headers, queued, run_queued
from tests.fake_arr import FakeUpstream, serve_upstream

DUNE = ItemFacts(693134, "movie", "Dune: Part Two", 2024, ("Science Fiction", "Adventure"))
SEVERANCE = ItemFacts(95396, "tv", "Severance", 2022, ("Drama", "Mystery"), language="en")


@pytest.fixture
def radarr_upstream() -> Iterator[FakeUpstream]:
    with serve_upstream() as upstream:
        upstream.reply_fixture(
            "POST", "/api/v3/movie", 201, "radarr/api_v3_movie_post_response.json"
        )
        yield upstream


def app_client(res: resources.Resources, settings: Settings) -> TestClient:
    runtime = Runtime(
        resources=res,
        secret_hashes=SecretHashes(
            admin=secrets.digest(ADMIN_TOKEN), webhook=secrets.digest(WEBHOOK_TOKEN)
        ),
        worker=None,
    )
    return TestClient(create_app(settings, runtime=runtime))


@pytest.fixture
def radarr_client(
    res: resources.Resources, settings: Settings, radarr_upstream: FakeUpstream
) -> Iterator[TestClient]:
    """The app with one Radarr (movies) and an anime-only Sonarr configured."""
    http = httpx.Client(timeout=5)

    def instance(name: str, domain: Literal["movies", "tv", "anime"]) -> ArrInstance:
        return ArrInstance(
            name=name,
            url=radarr_upstream.url,
            api_key=SecretStr("key"),
            quality_profile_id=4,
            root_folder="/movies",
            domain=domain,
        )

    integrations = Integrations(
        radarr={"main": RadarrClient(http, instance("main", "movies"))},
        sonarr={"anime": SonarrClient(http, instance("anime", "anime"))},
    )
    configured = dataclasses.replace(res, integrations=integrations)
    resources.install(configured)
    with app_client(configured, settings) as test_client:
        yield test_client
    resources.install(res)


@pytest.fixture
def people(conn: db.Connection) -> dict[str, int]:
    alice = users.upsert_tautulli_user(conn, "27185324", "alice", "Alice")
    bob = users.upsert_tautulli_user(conn, "31690025", "bob", "Bob")
    items.upsert_facts(conn, DUNE)
    items.upsert_facts(conn, SEVERANCE)
    conn.commit()
    return {"alice": alice, "bob": bob}


def token_for(conn: db.Connection, user_id: int) -> dict[str, str]:
    _, token = secrets.issue_user_token(conn, user_id, "test")
    conn.commit()
    return {"Authorization": f"Bearer {token}"}


def ask(client: TestClient, user_id: int, headers: dict[str, str], body: object) -> httpx2.Response:
    return client.post(f"/api/v1/users/{user_id}/grabs", json=body, headers=headers)


def test_a_user_asks_and_the_job_sends_it(
    radarr_client: TestClient,
    conn: db.Connection,
    people: dict[str, int],
    radarr_upstream: FakeUpstream,
) -> None:
    alice = people["alice"]
    headers = token_for(conn, alice)
    response = ask(radarr_client, alice, headers, {"tmdb_id": 693134, "media_type": "movie"})
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert set(accepted) == {"job_id", "grab_request_id"}
    assert queued()["events"] == 1
    row = conn.execute(
        "SELECT user_id, via, state FROM grab_requests WHERE id = %s",
        (accepted["grab_request_id"],),
    ).fetchone()
    assert row == {"user_id": alice, "via": "radarr", "state": "pending"}

    run_queued()
    assert len(radarr_upstream.posted("/api/v3/movie")) == 1
    state = conn.execute(
        "SELECT state, external_id FROM grab_requests WHERE id = %s",
        (accepted["grab_request_id"],),
    ).fetchone()
    assert state == {"state": "sent", "external_id": "main:57"}
    job = radarr_client.get(f"/api/v1/jobs/{accepted['job_id']}", headers=headers).json()
    assert job["kind"] == "request_grab"

    # Asking again reuses the request; the job finds it sent and calls nobody.
    again = ask(radarr_client, alice, headers, {"tmdb_id": 693134, "media_type": "movie"})
    assert again.status_code == 202
    assert again.json()["grab_request_id"] == accepted["grab_request_id"]
    run_queued()
    assert len(radarr_upstream.posted("/api/v3/movie")) == 1


def test_another_users_id_is_404(
    radarr_client: TestClient, conn: db.Connection, people: dict[str, int]
) -> None:
    bob_headers = token_for(conn, people["bob"])
    response = ask(
        radarr_client, people["alice"], bob_headers, {"tmdb_id": 693134, "media_type": "movie"}
    )
    assert response.status_code == 404
    assert conn.execute("SELECT count(*) AS n FROM grab_requests").fetchone() == {"n": 0}
    assert queued()["events"] == 0


def test_the_admin_may_ask_for_anyone(radarr_client: TestClient, people: dict[str, int]) -> None:
    response = ask(
        radarr_client, people["bob"], admin_headers(), {"tmdb_id": 693134, "media_type": "movie"}
    )
    assert response.status_code == 202


def test_no_route_is_409_saying_why(
    radarr_client: TestClient, conn: db.Connection, people: dict[str, int]
) -> None:
    # Only an anime Sonarr: a plain show has nowhere to go.
    response = ask(
        radarr_client, people["alice"], admin_headers(), {"tmdb_id": 95396, "media_type": "tv"}
    )
    assert response.status_code == 409
    message = response.json()["error"]["message"]
    assert "Severance" in message and "SONARR_INSTANCES" in message
    assert conn.execute("SELECT count(*) AS n FROM grab_requests").fetchone() == {"n": 0}


def test_nothing_configured_is_409(client: TestClient, people: dict[str, int]) -> None:
    response = ask(
        client, people["alice"], admin_headers(), {"tmdb_id": 693134, "media_type": "movie"}
    )
    assert response.status_code == 409
    assert "RADARR_INSTANCES" in response.json()["error"]["message"]


def test_unknown_title_is_404(radarr_client: TestClient, people: dict[str, int]) -> None:
    response = ask(
        radarr_client, people["alice"], admin_headers(), {"tmdb_id": 1, "media_type": "movie"}
    )
    assert response.status_code == 404
    assert "tmdb_id" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"media_type": "movie"}, "tmdb_id"),
        ({"tmdb_id": "dune", "media_type": "movie"}, "tmdb_id"),
        ({"tmdb_id": -3, "media_type": "movie"}, "tmdb_id"),
        ({"tmdb_id": 693134, "media_type": "film"}, "media_type"),
        ([], "body"),
    ],
)
def test_bad_bodies_are_422_naming_the_field(
    radarr_client: TestClient, people: dict[str, int], body: object, field: str
) -> None:
    response = ask(radarr_client, people["alice"], admin_headers(), body)
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith(field)


def test_malformed_json_is_400(radarr_client: TestClient, people: dict[str, int]) -> None:
    response = radarr_client.post(
        f"/api/v1/users/{people['alice']}/grabs", content=b"{", headers=admin_headers()
    )
    assert response.status_code == 400


def test_no_token_is_401(radarr_client: TestClient, people: dict[str, int]) -> None:
    response = ask(radarr_client, people["alice"], {}, {"tmdb_id": 693134, "media_type": "movie"})
    assert response.status_code == 401
