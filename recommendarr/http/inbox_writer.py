"""Group commit for accepted webhooks: many requests, one transaction.

Each request waits for its own row to be committed (so a 202 always means "durable"), but the
rows of every request that arrived while the previous batch was being written share the next
transaction. Under load this turns a commit per request into a commit per batch.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from dramatiq import Actor
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
                accepted = await run_in_threadpool(write_batch, self.resources, batch)
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
    for pending, done in zip(batch, accepted, strict=True):
        try:
            pending.actor.send_with_options(args=(done.inbox_id,), job_id=done.job_id)
        except Exception:
            # The body is committed; the inbox reconciler sends it again, so it is not lost.
            log.exception("could not enqueue inbox row %s; the reconciler will", done.inbox_id)
