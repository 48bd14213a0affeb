"""Group commit for accepted webhooks: many requests, one transaction.

Each request waits for its own row to be committed (so a 202 always means "durable"), but the
rows of every request that arrived while the previous batch was being written share the next
transaction. Under load this turns a commit per request into a commit per batch.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import psycopg
from dramatiq import Actor
from psycopg_pool import PoolTimeout
from starlette.concurrency import run_in_threadpool

from recommendarr.http.schemas import Accepted
from recommendarr.shared.resources import Resources
from recommendarr.shared.store import inbox, jobs

log = logging.getLogger(__name__)
MAX_BATCH = 500


@dataclass
class Pending:
    source: str
    content_type: str
    body: bytes
    actor: Actor[..., None]
    done: asyncio.Future[Accepted] = field(repr=False, default_factory=asyncio.Future)


class InboxWriter:
    def __init__(self, resources: Resources) -> None:
        self.resources = resources
        self.queue: asyncio.Queue[Pending] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.run(), name="inbox-writer")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    async def submit(
        self, source: str, content_type: str, body: bytes, actor: Actor[..., None]
    ) -> Accepted:
        pending = Pending(source, content_type, body, actor)
        await self.queue.put(pending)
        return await pending.done

    async def run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while len(batch) < MAX_BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                accepted = await run_in_threadpool(write_batch_retrying, self.resources, batch)
            except (psycopg.OperationalError, PoolTimeout) as exc:
                log.warning("could not record %d webhooks: %s; answered 503", len(batch), exc)
                for pending in batch:
                    pending.done.set_exception(DatabaseUnavailableError(str(exc)))
                continue
            except Exception as exc:
                log.exception("could not record %d webhooks", len(batch))
                for pending in batch:
                    pending.done.set_exception(exc)
                continue
            # Committed means durable: answer now, then enqueue. The reconciler re-sends a row
            # whose message is lost, so the 202 need not wait for the broker.
            for pending, result in zip(batch, accepted, strict=True):
                pending.done.set_result(result)
            await run_in_threadpool(send_batch, batch, accepted)


class DatabaseUnavailableError(Exception):
    """The batch could not be recorded: nothing of it is in the inbox."""


def write_batch_retrying(resources: Resources, batch: list[Pending]) -> list[Accepted]:
    """A connection the server dropped (a restart, pg_terminate_backend) fails the first
    write; the pool replaces it, so one more attempt usually succeeds. Had the failed commit
    gone through after all, the second copy is a duplicate delivery, which the actors absorb."""
    try:
        return write_batch(resources, batch)
    except psycopg.OperationalError:
        log.warning("recording %d webhooks failed on a dropped connection; once more", len(batch))
        return write_batch(resources, batch)


def write_batch(resources: Resources, batch: list[Pending]) -> list[Accepted]:
    with resources.pool.connection() as conn, conn.transaction():
        inbox_ids = inbox.record_many(conn, [(p.source, p.content_type, p.body) for p in batch])
        job_ids = jobs.create_many(
            conn,
            [
                (f"webhook:{p.source}", None, inbox_id)
                for p, inbox_id in zip(batch, inbox_ids, strict=True)
            ],
        )
    return [Accepted(job_id=j, inbox_id=i) for i, j in zip(inbox_ids, job_ids, strict=True)]


def send_batch(batch: list[Pending], accepted: list[Accepted]) -> None:
    unsent: list[int | None] = []
    error: Exception | None = None
    for pending, done in zip(batch, accepted, strict=True):
        try:
            pending.actor.send_with_options(args=(done.inbox_id,), job_id=done.job_id)
        except Exception as exc:  # noqa: BLE001 - whatever the broker raised, the row is safe
            # The body is committed; the inbox reconciler sends it again, so it is not lost.
            unsent.append(done.inbox_id)
            error = exc
    if unsent:
        # One line per batch: while Redis is down every row fails the same way.
        log.error(
            "could not enqueue %d inbox rows (%s..%s): %r; the inbox reconciler will send them",
            len(unsent),
            unsent[0],
            unsent[-1],
            error,
        )
