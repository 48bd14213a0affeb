"""Moves a job row through its states as its message is processed.

A message sent on behalf of a job carries `job_id` in its options. A message without one that
exhausts its retries gets a job row of its own, so no failure is only in a log. What an actor
returns (the periodic ones return a summary) is the job's result.
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from recommendarr.shared import resources
from recommendarr.shared.store import jobs

log = logging.getLogger(__name__)


class JobTracking(Middleware):
    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        job_id = message.options.get("job_id")
        if job_id is None:
            return
        with resources.current().pool.connection() as conn:
            jobs.mark_running(conn, int(job_id))

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        job_id = message.options.get("job_id")
        pool = resources.current().pool
        # Most messages have no job and succeed: they take the first return, with no query.
        if exception is None:
            if job_id is not None:
                with pool.connection() as conn:
                    jobs.mark_done(conn, int(job_id), result if isinstance(result, dict) else None)
            return
        error = f"{type(exception).__name__}: {exception}"
        if not message.failed:
            if job_id is not None:
                with pool.connection() as conn:
                    jobs.mark_retrying(conn, int(job_id), error)
            return
        with pool.connection() as conn:
            if job_id is None:
                job_id = jobs.record_failed_message(
                    conn, message.actor_name, list(message.args), error
                )
            else:
                jobs.mark_failed_with_message(
                    conn, int(job_id), error, message.actor_name, list(message.args)
                )
        log.error(
            "%s(%s) failed for good: %s [job %s]", message.actor_name, message.args, error, job_id
        )


class ResultsAreRecorded(logging.Filter):
    """Dramatiq warns, at every run of an actor that returns a value, that the value is
    discarded unless its Results middleware is installed. Here JobTracking keeps it (the job's
    result), so the warning only buried real ones in every periodic run's log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "returned a value that is not None, and you haven't added the Results" not in str(
            record.msg
        )


def quiet_discarded_result_warnings() -> None:
    logging.getLogger("dramatiq.worker.WorkerThread").addFilter(ResultsAreRecorded())
