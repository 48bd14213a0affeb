"""What an actor returns is its job's result: Dramatiq's warning that it was discarded (no
Results middleware) is not logged at every periodic run."""

from __future__ import annotations

import logging

import dramatiq
import pytest

from recommendarr.broker import broker
from recommendarr.shared import db
from recommendarr.shared.store import jobs
from tests.conftest import drain


@dramatiq.actor(actor_name="returns_a_summary", queue_name="events", max_retries=0)
def returns_a_summary(count: int) -> dict[str, int]:
    return {"titles": count}


def test_a_returned_summary_is_the_jobs_result_and_no_warning_is_logged(
    conn: db.Connection, worker: dramatiq.Worker, caplog: pytest.LogCaptureFixture
) -> None:
    job_id = jobs.create(conn, "returns_a_summary", user_id=None, subject_id=None)
    conn.commit()
    with caplog.at_level(logging.WARNING, logger="dramatiq"):
        returns_a_summary.send_with_options(args=(3,), job_id=job_id)
        drain()
        logging.getLogger("dramatiq.worker.WorkerThread").warning("a real warning")
    job = jobs.get(conn, job_id)
    assert job is not None and job["state"] == "done" and job["result"] == {"titles": 3}
    assert [r.getMessage() for r in caplog.records] == ["a real warning"]
    assert broker.get_actor("returns_a_summary") is returns_a_summary
