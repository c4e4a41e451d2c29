"""Batches: many URLs submitted together, from a JSON list or an uploaded text file.

Each URL is checked like a single submission; those that fail are reported back with their
line number (or list position) instead of failing the batch. The batch's counters follow its
jobs through an append hook (in the same transaction as each job's state change), and when
its last job ends the hook also writes the `batch.completed` webhook. Cancelling a batch
cancels every job of it that has not ended, waiting or running.
"""

from typing import Any, Protocol

import anyio
import msgspec

from audiograb.domain import AudiograbError, ErrorCode, Job, JobRequest, new_job_id
from audiograb.pipeline.clock import Clock
from audiograb.pipeline.errors import NotFoundError
from audiograb.pipeline.webhooks import BATCH_COMPLETED, Outbox, Webhooks
from audiograb.store import Batch, BatchStore, JobStore, Rejected, StoredEvent, Transaction

__all__ = ["BatchHook", "BatchResult", "Batches", "parse_lines"]

#: The most URLs one batch may hold.
MAX_BATCH = 1000


def parse_lines(text: str) -> list[tuple[int, str]]:
    """`(line number, URL)` for every line of `text` that is neither blank nor a `#` comment."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            entries.append((number, stripped))
    return entries


class BatchResult(msgspec.Struct, frozen=True, kw_only=True):
    """A new batch and the jobs it queued (its `rejected` lines are on the batch)."""

    batch: Batch
    jobs: list[Job]


class _Jobs(Protocol):
    """What batches need of the facade."""

    async def prepare(self, request: JobRequest) -> Job: ...

    async def enqueue(self, job: Job) -> Job: ...

    async def cancel(self, job_id: str) -> Job: ...


def batch_data(batch: Batch) -> dict[str, Any]:
    """What `batch.completed` says about the batch."""
    return {
        "batch_id": batch.id,
        "total": batch.total,
        "counts": batch.counts,
        "rejected": len(batch.rejected),
        "batch_url": f"/api/batches/{batch.id}",
    }


class BatchHook:
    """The append hook that keeps batch counters and announces finished batches."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    async def on_append(self, tx: Transaction, stored: StoredEvent, job: Job) -> None:
        """Record the job's state in its batch; on the batch's last end, queue the webhook."""
        if job.batch_id is None:
            return
        if await tx.track_batch_job(job.batch_id, job.id, job.state.value):
            batch = await tx.batch(job.batch_id)
            if batch is not None:
                await self._outbox.add(
                    tx,
                    BATCH_COMPLETED,
                    batch_data(batch),
                    url=batch.webhook_url,
                    batch_id=batch.id,
                )


class Batches:
    """Submit, show, list and cancel batches (`Audiograb.batches`)."""

    def __init__(self, store: JobStore, jobs: _Jobs, webhooks: Webhooks, clock: Clock) -> None:
        self._store = BatchStore(store)
        self._jobs = jobs
        self._webhooks = webhooks
        self._clock = clock

    async def submit(
        self,
        entries: list[tuple[int, str]],
        template: JobRequest,
        *,
        webhook_url: str | None = None,
    ) -> BatchResult:
        """Queue one job per `(line, url)` entry, like `template`; report the rejected lines.

        `invalid_request` when no entry could be queued (the message lists why, by line).
        """
        if len(entries) > MAX_BATCH:
            raise AudiograbError(
                ErrorCode.TOO_LARGE, f"a batch holds at most {MAX_BATCH} URLs, not {len(entries)}"
            )
        if webhook_url is not None:
            await self._webhooks.register(webhook_url)
        prepared: list[Job] = []
        rejected: list[Rejected] = []
        for line, url in entries:
            request = msgspec.structs.replace(template, url=url, webhook_url=webhook_url)
            try:
                prepared.append(await self._jobs.prepare(request))
            except AudiograbError as error:
                rejected.append(
                    Rejected(line=line, text=url, code=error.code.value, message=error.message)
                )
        if not prepared:
            reasons = "; ".join(f"line {r.line}: {r.message}" for r in rejected) or "it is empty"
            raise AudiograbError(ErrorCode.INVALID_REQUEST, f"nothing to queue: {reasons}")
        batch = Batch(
            id=new_job_id(),
            created_at=self._clock.now(),
            total=len(prepared),
            webhook_url=webhook_url,
            rejected=rejected,
        )
        await self._store.create(batch)
        jobs = [
            await self._jobs.enqueue(msgspec.structs.replace(job, batch_id=batch.id))
            for job in prepared
        ]
        return BatchResult(batch=await self.get(batch.id), jobs=jobs)

    async def get(self, batch_id: str) -> Batch:
        """The batch with its counters; `NotFoundError` when there is none."""
        batch = await self._store.get(batch_id)
        if batch is None:
            raise NotFoundError("batch", batch_id)
        return batch

    async def recent(self, *, limit: int = 50, offset: int = 0) -> list[Batch]:
        """Batches, newest first."""
        return await self._store.recent(limit=limit, offset=offset)

    async def job_ids(self, batch_id: str) -> list[str]:
        """The ids of the batch's jobs, in submission order."""
        await self.get(batch_id)
        return await self._store.job_ids(batch_id)

    async def cancel(self, batch_id: str) -> Batch:
        """Cancel every job of the batch that has not ended; the batch afterwards."""
        await self.get(batch_id)
        await self._store.mark_cancelled(batch_id)
        open_jobs = await self._store.job_ids(batch_id, open_only=True)
        async with anyio.create_task_group() as tasks:
            for job_id in open_jobs:
                tasks.start_soon(self._cancel_one, job_id)
        return await self.get(batch_id)

    async def _cancel_one(self, job_id: str) -> None:
        try:
            await self._jobs.cancel(job_id)
        except AudiograbError as error:
            if error.code is not ErrorCode.INVALID_STATE:  # it ended meanwhile: nothing to do
                raise
