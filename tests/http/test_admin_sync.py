"""POST /admin/sync: an admin-only job that runs sync_library and reports its counts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from recommendarr.shared import db, resources
from recommendarr.shared.store import secrets, users
from tests.conftest import admin_headers, drain
from tests.fake_media_servers import FakePlex, FakePlexTv, integrations_installed, plex_client


@pytest.fixture
def plex(res: resources.Resources) -> Iterator[FakePlex]:
    with (
        FakePlex().running() as server,
        FakePlexTv().running() as plex_tv,
        integrations_installed(res, plex=plex_client(server, plex_tv)),
    ):
        yield server


def test_sync_job_reaches_done_with_its_counts(
    client: TestClient, plex: FakePlex, worker: object
) -> None:
    response = client.post("/api/v1/admin/sync", headers=admin_headers())
    assert response.status_code == 202
    job_id = response.json()["job_id"]
    drain()
    job = client.get(f"/api/v1/jobs/{job_id}", headers=admin_headers()).json()
    assert (job["state"], job["kind"]) == ("done", "sync_library")
    [summary] = job["result"]["servers"]
    assert (summary["server"], summary["users"], summary["unmapped"]) == ("plex:Basement", 3, 1)


def test_a_rejected_token_fails_the_job_in_plain_words(
    client: TestClient, plex: FakePlex, worker: object
) -> None:
    plex.authorized = lambda seen: False
    job_id = client.post("/api/v1/admin/sync", headers=admin_headers()).json()["job_id"]
    with pytest.raises(Exception, match="rejected our credentials"):
        drain()
    job = client.get(f"/api/v1/jobs/{job_id}", headers=admin_headers()).json()
    assert job["state"] == "failed" and "check PLEX_TOKEN" in job["error"]
    assert job["attempts"] == 1  # Permanent: not retried


def test_only_the_admin_may_sync(client: TestClient, conn: db.Connection) -> None:
    uid = users.upsert_plex_user(conn, "31690025", "bob_p", "Bob")
    _, token = secrets.issue_user_token(conn, uid, "test")
    conn.commit()
    user = client.post("/api/v1/admin/sync", headers={"Authorization": f"Bearer {token}"})
    assert user.status_code == 403
    assert client.post("/api/v1/admin/sync").status_code == 401
    assert conn.execute("SELECT count(*) AS n FROM jobs").fetchone() == {"n": 0}
