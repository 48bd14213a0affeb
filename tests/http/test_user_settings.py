"""GET/PATCH /users/{id}/settings: the history window and cross-domain blend; a change re-ranks."""

from __future__ import annotations

import dramatiq
import psycopg
import pytest
from dramatiq.brokers.stub import StubBroker
from starlette.testclient import TestClient

from recommendarr.broker import QUEUES, broker
from recommendarr.shared import db
from recommendarr.shared.domain.user_settings import TasteSettings
from recommendarr.shared.store import secrets, user_settings
from tests.helpers import add_user, seed_library


@pytest.fixture
def alice(conn: db.Connection) -> tuple[str, dict[str, str], int]:
    seed_library(conn, tmdb_ids=[27205])
    user_id = add_user(conn, "3001", "alice")
    _, token = secrets.issue_user_token(conn, user_id, "test")
    conn.commit()
    return f"/api/v1/users/{user_id}/settings", {"Authorization": f"Bearer {token}"}, user_id


def sent() -> list[tuple[str, list[object]]]:
    """The messages waiting on the broker: (actor, args)."""
    assert isinstance(broker, StubBroker)
    messages = []
    for queue in QUEUES:
        for raw in list(broker.queues[queue].queue):
            message = dramatiq.Message.decode(raw)
            messages.append((message.actor_name, list(message.args)))
    return messages


def test_defaults(client: TestClient, alice: tuple[str, dict[str, str], int]) -> None:
    url, headers, _ = alice
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"history_window_months": 12, "cross_domain_blend": False}


def test_window_changes_alone_and_re_ranks(
    client: TestClient, conn: db.Connection, alice: tuple[str, dict[str, str], int]
) -> None:
    url, headers, user_id = alice
    response = client.patch(url, json={"history_window_months": 3}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"history_window_months": 3, "cross_domain_blend": False}
    assert client.get(url, headers=headers).json() == response.json()
    assert user_settings.taste_settings(conn, user_id) == TasteSettings(3, False)
    assert sent() == [("rank_user", [user_id])]


def test_blend_changes_alone_and_keeps_the_window(
    client: TestClient, conn: db.Connection, alice: tuple[str, dict[str, str], int]
) -> None:
    url, headers, user_id = alice
    client.patch(url, json={"history_window_months": 6}, headers=headers)
    response = client.patch(url, json={"cross_domain_blend": True}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"history_window_months": 6, "cross_domain_blend": True}
    assert user_settings.taste_settings(conn, user_id) == TasteSettings(6, True)
    assert sent() == [("rank_user", [user_id]), ("rank_user", [user_id])]


def test_null_means_all_of_the_history(
    client: TestClient, conn: db.Connection, alice: tuple[str, dict[str, str], int]
) -> None:
    url, headers, user_id = alice
    response = client.patch(
        url, json={"history_window_months": None, "cross_domain_blend": True}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"history_window_months": None, "cross_domain_blend": True}
    settings = user_settings.taste_settings(conn, user_id)
    assert settings == TasteSettings(None, True)
    assert settings.window_days() is None


def test_unchanged_settings_do_not_re_rank(
    client: TestClient, alice: tuple[str, dict[str, str], int]
) -> None:
    url, headers, _ = alice
    response = client.patch(
        url, json={"history_window_months": 12, "cross_domain_blend": False}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert sent() == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"history_window_months": 4}, "history_window_months: must be 3, 6, 12 or null"),
        ({"history_window_months": 0}, "history_window_months: must be 3, 6, 12 or null"),
        ({"history_window_months": "6"}, "history_window_months: must be 3, 6, 12 or null"),
        ({"history_window_months": 6.0}, "history_window_months: must be 3, 6, 12 or null"),
        ({"history_window_months": True}, "history_window_months: must be 3, 6, 12 or null"),
        ({"cross_domain_blend": None}, "cross_domain_blend: must be true or false"),
        ({"cross_domain_blend": "yes"}, "cross_domain_blend: must be true or false"),
        ({"cross_domain_blend": 1}, "cross_domain_blend: must be true or false"),
        ({}, "body: send history_window_months, cross_domain_blend or both"),
        ({"window": 6}, "window: "),
        ([6], "body: "),
    ],
)
def test_bad_bodies_are_422_naming_the_field(
    client: TestClient,
    conn: db.Connection,
    alice: tuple[str, dict[str, str], int],
    body: object,
    message: str,
) -> None:
    url, headers, user_id = alice
    response = client.patch(url, json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"].startswith(message)
    assert user_settings.taste_settings(conn, user_id) == TasteSettings()
    assert sent() == []


def test_no_body_is_422_and_bad_json_400(
    client: TestClient, alice: tuple[str, dict[str, str], int]
) -> None:
    url, headers, _ = alice
    assert client.patch(url, headers=headers).status_code == 422
    assert client.patch(url, content=b"{", headers=headers).status_code == 400


def test_another_users_settings_are_404(
    client: TestClient, conn: db.Connection, alice: tuple[str, dict[str, str], int]
) -> None:
    _, headers, _ = alice
    bob = add_user(conn, "3002", "bob")
    response = client.patch(
        f"/api/v1/users/{bob}/settings", json={"history_window_months": 3}, headers=headers
    )
    assert response.status_code == 404
    assert response.json()["error"]["message"] == f"no user {bob}"
    assert user_settings.taste_settings(conn, bob) == TasteSettings()
    assert sent() == []


def test_a_missing_user_has_the_defaults(conn: db.Connection) -> None:
    assert user_settings.taste_settings(conn, 999) == TasteSettings(12, False)
    assert not user_settings.update(conn, 999, TasteSettings(3, True))
    assert user_settings.lock(conn, 999) is None
    conn.rollback()


def test_the_database_refuses_other_windows(
    conn: db.Connection, alice: tuple[str, dict[str, str], int]
) -> None:
    _, _, user_id = alice
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("UPDATE users SET history_window_months = 5 WHERE id = %s", (user_id,))
    conn.rollback()
