"""check_integration(job_id): test a service's URL and key for the admin, and say what is wrong.

The request (URL and key) waits in integration_checks; claiming it deletes it, so the key leaves
the database as soon as it is used and a re-run finds nothing to do. A failed connection is an
answer, not an error: the job finishes with {"ok": false, "message": …}. Never retried: the
admin asks again.
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq

from recommendarr import broker as _broker  # noqa: F401 - declares the broker before the actor
from recommendarr.shared import resources
from recommendarr.shared.clients.connection_check import CheckRequest, run_check
from recommendarr.shared.errors import Permanent
from recommendarr.shared.store import integration_checks, jobs

log = logging.getLogger(__name__)


@dramatiq.actor(
    actor_name="check_integration",
    queue_name="events",
    max_retries=0,
    time_limit=30_000,
    throws=(Permanent,),
)
def check_integration(job_id: int) -> dict[str, Any] | None:
    res = resources.current()
    with res.pool.connection() as conn, conn.transaction():
        claimed = integration_checks.claim(conn, job_id)
        job = jobs.get(conn, job_id) if claimed is None else None
    if claimed is None:
        log.info("check_integration %s: already run (or gone); nothing to do", job_id)
        # Job tracking stores what this returns: hand back the first run's answer, not None.
        return job["result"] if job is not None else None
    request = CheckRequest(claimed["kind"], claimed["url"], claimed["api_key"])
    # Slow I/O with no transaction open; the claim above is already committed.
    verdict = run_check(request, res.settings)
    log.info(
        "check_integration %s: %s %s (%s)",
        job_id,
        request.kind,
        "ok" if verdict.ok else "failed",
        verdict.message,
    )
    return verdict.as_result()
