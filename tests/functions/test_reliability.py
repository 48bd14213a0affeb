"""Poison messages are quarantined, failed jobs can be retried, lost follow-ups are re-sent."""

from __future__ import annotations

import threading

import dramatiq
import pytest
from dramatiq.middleware import SkipMessage
from starlette.testclient import TestClient

from recommendarr.broker import broker
from recommendarr.functions.on_watch_event import on_watch_event
from recommendarr.functions.reconcile_derived import reconcile_derived
from recommendarr.shared import db
from recommendarr.shared.delivery_limit import MAX_DELIVERIES, DeliveryCounter, DeliveryLimit
from recommendarr.shared.store import jobs
from tests.conftest import admin_headers, queued, run_queued
from tests.helpers import add_user, record_inbox, seed_library, watch


def delivered(counter: DeliveryCounter, message: dramatiq.Message[object]) -> None:
    """A delivery in a fresh worker process (the previous one died with the message)."""
    middleware = DeliveryLimit()
    middleware.counter = counter
    middleware.before_process_message(broker, dramatiq.broker.MessageProxy(message))


def test_a_message_that_keeps_killing_its_worker_is_quarantined(conn: db.Connection) -> None:
    counter = DeliveryCounter(broker)
    message = on_watch_event.message(42)
    for _ in range(MAX_DELIVERIES):  # each delivery "dies": after_process_message never runs
        delivered(counter, message)
    with pytest.raises(SkipMessage):
        delivered(counter, message)
    [job] = jobs.list_by_state(conn, "failed", 10, None)
    assert job["actor"] == "on_watch_event" and job["args"] == [42]
    assert "quarantined: delivered 4 times" in job["error"]


def test_a_message_that_died_before_runs_alone(res: object) -> None:
    """Innocent messages must not share a worker with a suspect (they would die with it)."""
    middleware = DeliveryLimit()
    ordinary = dramatiq.broker.MessageProxy(on_watch_event.message(1))
    suspect = dramatiq.broker.MessageProxy(on_watch_event.message(2))
    middleware.counter_for(broker).increment(suspect.message_id)  # it died once already
    middleware.before_process_message(broker, ordinary)
    entered = threading.Event()

    def run_suspect() -> None:
        middleware.before_process_message(broker, suspect)
        entered.set()

    thread = threading.Thread(target=run_suspect)
    thread.start()
    assert not entered.wait(0.3)  # waits while the ordinary message runs
    middleware.after_process_message(broker, ordinary)
    assert entered.wait(5)
    thread.join()
    later = dramatiq.broker.MessageProxy(on_watch_event.message(3))
    blocked = threading.Event()

    def run_later() -> None:
        middleware.before_process_message(broker, later)
        blocked.set()

    other = threading.Thread(target=run_later)
    other.start()
    assert not blocked.wait(0.3)  # nothing runs beside the suspect
    middleware.after_process_message(broker, suspect)
    assert blocked.wait(5)
    other.join()
    middleware.after_process_message(broker, later)


def test_deliveries_that_finish_do_not_count(conn: db.Connection) -> None:
    middleware = DeliveryLimit()
    message = on_watch_event.message(7)
    proxy = dramatiq.broker.MessageProxy(message)
    for _ in range(MAX_DELIVERIES * 3):  # retries after exceptions reach the end each time
        middleware.before_process_message(broker, proxy)
        middleware.after_process_message(broker, proxy, exception=RuntimeError("retry me"))
    assert jobs.list_by_state(conn, "failed", 10, None) == []


def test_failed_jobs_are_listed_and_can_be_retried(client: TestClient, conn: db.Connection) -> None:
    job_id = jobs.record_failed_message(conn, "embed_item", [123], "Transient: TMDB was down")
    conn.commit()
    listed = client.get("/api/v1/admin/jobs", headers=admin_headers()).json()["jobs"]
    assert [j["id"] for j in listed] == [job_id] and listed[0]["error"].startswith("Transient")
    assert client.get("/api/v1/health").json()["jobs"] == {"failed": 1}
    response = client.post(f"/api/v1/admin/jobs/{job_id}/retry", headers=admin_headers())
    assert response.status_code == 202
    sent = [dramatiq.Message.decode(m) for m in list(broker.queues["embeddings"].queue)]
    assert [(m.actor_name, m.args, m.options["job_id"]) for m in sent] == [
        ("embed_item", (123,), job_id)
    ]
    assert jobs.get(conn, job_id)["state"] == "queued"  # type: ignore[index]
    again = client.post(f"/api/v1/admin/jobs/{job_id}/retry", headers=admin_headers())
    assert again.status_code == 409


def test_admin_job_routes_refuse_user_tokens(client: TestClient, conn: db.Connection) -> None:
    from recommendarr.shared.store import secrets

    seed_library(conn, tmdb_ids=[27205])
    user_id = add_user(conn, "9", "someone")
    _, token = secrets.issue_user_token(conn, user_id, "t")
    conn.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/admin/jobs", headers=headers).status_code == 403
    assert client.post("/api/v1/admin/jobs/1/retry", headers=headers).status_code == 403
    assert client.post("/api/v1/admin/sync", headers=headers).status_code == 403


def test_lost_follow_ups_are_resent(conn: db.Connection) -> None:
    """Redis lost every message after the events were recorded: state catches up anyway."""
    ids = seed_library(conn)
    user_id = add_user(conn, "501", "maya")
    for n, tmdb_id in enumerate([27205, 157336]):
        on_watch_event(record_inbox(conn, watch(tmdb_id, "501", 100, 1_760_000_000 + n)))
    broker.flush_all()  # the restart
    reconcile_derived("test:1", 0)
    assert queued()["embeddings"] == len(ids) and queued()["profiles"] == 1
    run_queued()
    row = conn.execute(
        "SELECT count(*) AS n FROM recommendations WHERE user_id = %s AND mode = 'tonight'",
        (user_id,),
    )
    assert row.fetchone() == {"n": len(ids) - 2}
    broker.flush_all()
    reconcile_derived("test:2", 0)
    assert queued() == {"events": 0, "embeddings": 0, "profiles": 0}  # nothing left to catch up
    # The change logs the workers' caches read are folded to one row each.
    for log in ("library_changes", "title_changes"):
        assert conn.execute(f"SELECT count(*) AS n FROM {log}").fetchone() == {"n": 1}


def test_quarantine_does_not_fail_a_job_that_finished(conn: db.Connection) -> None:
    job_id = jobs.create(conn, "webhook:tautulli", user_id=None, subject_id=1)
    jobs.mark_done(conn, job_id, None)
    jobs.record_quarantined(conn, "on_watch_event", [1], job_id, "quarantined: ...")
    conn.commit()
    assert jobs.get(conn, job_id)["state"] == "done"  # type: ignore[index]
