"""Webhook secrets: per source, rotatable without a restart, rate limited, strong enough."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import SecretStr, ValidationError
from starlette.testclient import TestClient

from recommendarr.http import secret_book
from recommendarr.settings import Settings
from recommendarr.shared import db
from recommendarr.shared.resources import Resources
from recommendarr.shared.store import secrets
from tests.conftest import WEBHOOK_TOKEN, fixture_bytes

URL = "/api/v1/webhooks/tautulli"
BODY = fixture_bytes("tautulli/webhook_playback_stop.json")


def post(client: TestClient, token: str, url: str = URL) -> int:
    response = client.post(
        url, params={"token": token}, content=BODY, headers={"Content-Type": "application/json"}
    )
    return response.status_code


def reload_now(client: TestClient) -> None:
    client.app.state.secret_book.loaded_at = -1e9  # type: ignore[attr-defined]


def test_a_rotated_source_secret_replaces_the_shared_one_for_that_source(
    client: TestClient, conn: db.Connection
) -> None:
    assert post(client, WEBHOOK_TOKEN) == 202
    fresh = secrets.new_token("")
    secrets.rotate(conn, "webhook:tautulli", fresh)
    conn.commit()
    reload_now(client)
    assert post(client, fresh) == 202
    assert post(client, WEBHOOK_TOKEN) == 401  # the shared secret no longer opens Tautulli
    jellyfin = fixture_bytes("jellyfin/webhook_playback_stop.json")
    response = client.post(
        "/api/v1/webhooks/jellyfin",
        params={"token": WEBHOOK_TOKEN},
        content=jellyfin,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 202  # other sources still take the shared one


def test_secrets_are_stored_hashed(conn: db.Connection) -> None:
    token = secrets.new_token("")
    secrets.rotate(conn, "webhook:plex", token)
    stored = secrets.all_hashes(conn)["webhook:plex"]
    assert stored == secrets.digest(token) and token.encode() not in stored
    assert len(token) >= 43  # 256 bits


def test_failed_authentications_are_rate_limited(client: TestClient) -> None:
    statuses = [post(client, "wrong-token-xxxxxxxxxxxxxxxx") for _ in range(25)]
    assert statuses[:20] == [401] * 20
    assert 429 in statuses[20:]
    response = client.post(URL, params={"token": "wrong"}, content=BODY)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1


def test_each_token_has_a_budget(client: TestClient) -> None:
    from recommendarr.http.throttle import KeyedLimiter

    client.app.state.webhook_limiter = KeyedLimiter(1.0, 3)  # type: ignore[attr-defined]
    statuses = [post(client, WEBHOOK_TOKEN) for _ in range(5)]
    assert statuses == [202, 202, 202, 429, 429]


@pytest.mark.parametrize("name", ["admin_token", "webhook_token"])
def test_weak_configured_secrets_are_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="at least 22 characters"):
        Settings.model_validate({name: SecretStr("hunter2")})


def test_rotate_command_prints_once_and_refuses_pinned_secrets(res: Resources) -> None:
    env = {"DATABASE_URL": res.database_url, "PATH": "/usr/bin:/bin"}
    ok = subprocess.run(
        [sys.executable, "-m", "recommendarr.cli", "secret", "rotate", "webhook:plex"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    token = ok.stdout.strip().splitlines()[-1].strip()
    with db.connect(res.database_url) as conn:
        assert secrets.all_hashes(conn)["webhook:plex"] == secrets.digest(token)
    pinned = subprocess.run(
        [sys.executable, "-m", "recommendarr.cli", "secret", "rotate", "admin"],
        env={**env, "RECOMMENDARR_ADMIN_TOKEN": "x" * 30},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert pinned.returncode == 2 and "environment" in pinned.stdout
    assert secret_book.RELOAD_S <= 10
