from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

from recommendarr.shared import db
from tests.conftest import WEBHOOK_TOKEN, fixture_bytes, queued, run_queued

PLEX_URL = "/api/v1/webhooks/plex"
JELLYFIN_URL = "/api/v1/webhooks/jellyfin"
PLEX_FIXTURES = (
    "webhook_media_play.json",
    "webhook_media_stop.json",
    "webhook_media_scrobble.json",
    "webhook_media_rate.json",
    "webhook_library_new.json",
)
JELLYFIN_FIXTURES = (
    "webhook_playback_start.json",
    "webhook_playback_stop.json",
    "webhook_playback_stop_send_all_properties.json",
    "webhook_item_added.json",
)
BOUNDARY = "------------------------8e2f5a1c7d3b9e04"
# JPEG markers, and a line that starts like the boundary but is not it.
JPEG_LIKE = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\r\n--" + BOUNDARY[:-1].encode() + b"\r\n\x00\xff\xd9"


def raw_request(name: str = "webhook_media_play.multipart.http") -> tuple[str, bytes]:
    """(Content-Type, body) of a whole raw HTTP request, exactly as captured."""
    raw = fixture_bytes(f"plex/{name}")
    head, _, body = raw.partition(b"\r\n\r\n")
    headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:] if ": " in line)
    return headers["Content-Type"], body


def multipart(parts: list[tuple[str, str | None, str, bytes]]) -> tuple[str, bytes]:
    """(name, filename, content type, bytes) parts, laid out the way Plex sends them."""
    chunks = []
    for name, filename, content_type, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        chunks.append(
            f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    body = b"".join(chunks) + f"--{BOUNDARY}--\r\n".encode()
    return f"multipart/form-data; boundary={BOUNDARY}", body


def plex_form(payload: bytes, thumb: bytes | None = JPEG_LIKE) -> tuple[str, bytes]:
    parts: list[tuple[str, str | None, str, bytes]] = [
        ("payload", None, "application/json", payload)
    ]
    if thumb is not None:
        parts.append(("thumb", "thumb.jpg", "image/jpeg", thumb))
    return multipart(parts)


def post(
    client: TestClient,
    url: str,
    content_type: str,
    body: bytes | Iterator[bytes],
    token: str | None = WEBHOOK_TOKEN,
) -> httpx.Response:
    params = {"token": token} if token is not None else {}
    return client.post(url, params=params, content=body, headers={"Content-Type": content_type})


def inbox_rows(conn: db.Connection) -> list[dict[str, object]]:
    return conn.execute(
        "SELECT source, content_type, body, state, error FROM inbox ORDER BY id"
    ).fetchall()


@pytest.fixture(autouse=True)
def no_cached_aliases(conn: db.Connection) -> None:
    conn.execute("TRUNCATE title_aliases")
    conn.commit()


def test_raw_plex_request_records_only_the_payload(client: TestClient, conn: db.Connection) -> None:
    content_type, body = raw_request()
    assert "boundary=" in content_type
    response = post(client, PLEX_URL, content_type, body)
    assert response.status_code == 202, response.text
    assert {"job_id", "inbox_id"} <= set(response.json())
    [row] = inbox_rows(conn)
    recorded = bytes(row["body"])  # type: ignore[call-overload]
    assert json.loads(recorded) == json.loads(fixture_bytes("plex/webhook_media_play.json"))
    # Exactly the payload part's bytes: no part headers, no thumbnail.
    assert body.index(recorded) > body.index(b'name="payload"')
    assert b'filename="thumb.jpg"' not in recorded and b"JPEG poster" not in recorded
    assert (row["source"], row["content_type"], row["state"]) == (
        "plex",
        "application/json",
        "received",
    )
    assert queued()["events"] == 1


def test_binary_thumb_with_boundary_like_bytes_is_skipped(
    client: TestClient, conn: db.Connection
) -> None:
    payload = fixture_bytes("plex/webhook_media_stop.json")
    response = post(client, PLEX_URL, *plex_form(payload))
    assert response.status_code == 202, response.text
    assert bytes(inbox_rows(conn)[0]["body"]) == payload  # type: ignore[call-overload]


def test_payload_sent_as_a_file_part_is_read(client: TestClient, conn: db.Connection) -> None:
    payload = fixture_bytes("plex/webhook_media_stop.json")
    form = multipart([("payload", "payload.json", "application/json", payload)])
    assert post(client, PLEX_URL, *form).status_code == 202
    assert bytes(inbox_rows(conn)[0]["body"]) == payload  # type: ignore[call-overload]


def test_plain_json_from_a_relay_is_accepted(client: TestClient, conn: db.Connection) -> None:
    payload = fixture_bytes("plex/webhook_media_scrobble.json")
    assert post(client, PLEX_URL, "application/json", payload).status_code == 202
    assert bytes(inbox_rows(conn)[0]["body"]) == payload  # type: ignore[call-overload]


def test_missing_payload_is_400(client: TestClient, conn: db.Connection) -> None:
    form = multipart([("thumb", "thumb.jpg", "image/jpeg", JPEG_LIKE)])
    response = post(client, PLEX_URL, *form)
    assert response.status_code == 400
    assert "payload" in response.json()["error"]["message"]
    assert inbox_rows(conn) == [] and queued()["events"] == 0


@pytest.mark.parametrize("payload", [b"event=media.play", b"[]", b"\xff\xfe"])
def test_payload_that_is_not_a_json_object_is_400(client: TestClient, payload: bytes) -> None:
    response = post(client, PLEX_URL, *plex_form(payload))
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("payload:")


def test_a_bad_field_in_the_payload_is_422_naming_it(client: TestClient) -> None:
    body = json.loads(fixture_bytes("plex/webhook_media_stop.json"))
    del body["Metadata"]["ratingKey"]
    response = post(client, PLEX_URL, *plex_form(json.dumps(body).encode()))
    assert response.status_code == 422
    assert "Metadata.ratingKey" in response.json()["error"]["message"]


def test_broken_multipart_is_400(client: TestClient) -> None:
    response = post(client, PLEX_URL, "multipart/form-data", b"--x\r\n\r\n")
    assert response.status_code == 400


def test_other_content_types_are_415(client: TestClient) -> None:
    payload = fixture_bytes("plex/webhook_media_stop.json")
    assert post(client, PLEX_URL, "text/xml", payload).status_code == 415


def test_too_big_is_413(client: TestClient, conn: db.Connection) -> None:
    payload = fixture_bytes("plex/webhook_media_play.json")
    form = plex_form(payload, thumb=b"\xff" * (10 * 1024 * 1024))
    assert post(client, PLEX_URL, *form).status_code == 413
    assert inbox_rows(conn) == []


def test_too_big_without_a_declared_length_is_413(client: TestClient, conn: db.Connection) -> None:
    content_type, body = plex_form(b"{}", thumb=b"\xff" * (10 * 1024 * 1024))
    chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))
    assert post(client, PLEX_URL, content_type, chunks).status_code == 413
    assert inbox_rows(conn) == []


@pytest.mark.parametrize("url", [PLEX_URL, JELLYFIN_URL])
@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_wrong_or_missing_token_is_401(
    client: TestClient, conn: db.Connection, url: str, token: str | None
) -> None:
    body = fixture_bytes("jellyfin/webhook_playback_start.json")
    response = post(client, url, "application/json", body, token=token)
    assert response.status_code == 401
    assert WEBHOOK_TOKEN not in response.text
    assert inbox_rows(conn) == []


@pytest.mark.parametrize("content_type", ["application/json", "text/plain; charset=utf-8"])
def test_jellyfin_json_or_text_plain(
    client: TestClient, conn: db.Connection, content_type: str
) -> None:
    body = fixture_bytes("jellyfin/webhook_playback_stop.json")
    response = post(client, JELLYFIN_URL, content_type, body)
    assert response.status_code == 202, response.text
    [row] = inbox_rows(conn)
    assert bytes(row["body"]) == body  # type: ignore[call-overload]
    assert (row["source"], row["content_type"]) == ("jellyfin", content_type)


def test_jellyfin_malformed_is_400_and_bad_field_422(client: TestClient) -> None:
    assert post(client, JELLYFIN_URL, "text/plain", b'{"notification_type": ').status_code == 400
    body = json.loads(fixture_bytes("jellyfin/webhook_playback_start.json"))
    body["user_id"] = "alice"
    response = post(client, JELLYFIN_URL, "text/plain", json.dumps(body).encode())
    assert response.status_code == 422 and "user_id" in response.json()["error"]["message"]


def test_jellyfin_too_big_is_413(client: TestClient) -> None:
    body = b'{"notification_type": "PlaybackStart", "pad": "' + b"x" * (256 * 1024) + b'"}'
    assert post(client, JELLYFIN_URL, "application/json", body).status_code == 413


def test_each_fixture_webhook_is_recorded_once(client: TestClient, conn: db.Connection) -> None:
    for name in PLEX_FIXTURES:
        payload = fixture_bytes(f"plex/{name}")
        assert post(client, PLEX_URL, *plex_form(payload)).status_code == 202
    for name in JELLYFIN_FIXTURES:
        body = fixture_bytes(f"jellyfin/{name}")
        assert post(client, JELLYFIN_URL, "text/plain", body).status_code == 202
    run_queued()
    rows = inbox_rows(conn)
    assert len(rows) == len(PLEX_FIXTURES) + len(JELLYFIN_FIXTURES)
    states = {(r["source"], json.loads(bytes(r["body"])).get("event")): r["state"] for r in rows}  # type: ignore[call-overload]
    # Episodes need their show's TMDB id: with no TMDB or media server configured, they are
    # kept with the reason.
    assert states[("plex", "media.scrobble")] == "ignored"
    ignored = [r for r in rows if r["state"] == "ignored"]
    assert all("no TMDB id" in str(r["error"]) for r in ignored)
    assert len(ignored) == 3  # the Plex scrobble and both Jellyfin episode stops
    assert all(r["state"] == "done" for r in rows if r not in ignored)
    counts = conn.execute(
        "SELECT source, count(*) AS n FROM watch_events GROUP BY source ORDER BY source"
    ).fetchall()
    assert counts == [{"source": "jellyfin", "n": 1}, {"source": "plex", "n": 3}]
    rated = conn.execute("SELECT rating FROM watch_events WHERE action = 'rate'").fetchone()
    assert rated == {"rating": 8.0}


def test_the_same_rating_delivered_twice_is_one_event(
    client: TestClient, conn: db.Connection
) -> None:
    body = json.loads(fixture_bytes("plex/webhook_media_rate.json"))
    body["Metadata"]["lastRatedAt"] = int(time.time()) - 5
    for _ in range(2):
        assert post(client, PLEX_URL, *plex_form(json.dumps(body).encode())).status_code == 202
    run_queued()
    assert conn.execute("SELECT count(*) AS n FROM watch_events").fetchone() == {"n": 1}
    assert [r["state"] for r in inbox_rows(conn)] == ["done", "done"]
