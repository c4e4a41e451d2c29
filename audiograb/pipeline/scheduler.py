"""The scheduler actor: the queue of jobs, the concurrency limit, and cancellation.

Jobs wait in arrival order and run as tasks of this actor, at most `limit` at a time. A user's
cancel stops a running job through its cancel scope (the runner then stops the worker thread
and removes the work folder); a queued job is simply taken out of the queue.
"""

import contextlib
from collections import deque

import anyio
import msgspec

from actors import Actor, ActorStopped, Reply
from audiograb.domain import AudiograbError, ErrorCode, Job, JobCancelled, JobState
from audiograb.pipeline.runner import JobRunner


class Enqueue(msgspec.Struct, frozen=True, kw_only=True):
    """Run `job` when a slot is free."""

    job: Job


class CancelJob(msgspec.Struct, frozen=True, kw_only=True):
    """Stop the job, queued or running; the reply says whether this scheduler had it."""

    job_id: str
    reply: Reply[bool]


class IsActive(msgspec.Struct, frozen=True, kw_only=True):
    """Whether the job is queued or running here."""

    job_id: str
    reply: Reply[bool]


class QueueDepth(msgspec.Struct, frozen=True, kw_only=True):
    """How many jobs wait for a slot."""

    reply: Reply[int]


class _Finished(msgspec.Struct, frozen=True, kw_only=True):
    job_id: str


SchedulerMessage = Enqueue | CancelJob | IsActive | QueueDepth | _Finished

#: Commands waiting for the scheduler; submits wait for room when it is full.
SCHEDULER_MAILBOX = 256


class Scheduler(Actor[SchedulerMessage]):
    """Starts queued jobs first in, first out, keeping at most `limit` running."""

    def __init__(self, runner: JobRunner, limit: int) -> None:
        self._runner = runner
        self._limit = limit
        self._waiting: deque[Job] = deque()
        self._running: dict[str, anyio.CancelScope] = {}
        self._cancelled: set[str] = set()

    async def receive(self, msg: SchedulerMessage) -> None:
        if isinstance(msg, Enqueue):
            if not self._has(msg.job.id):
                self._waiting.append(msg.job)
        elif isinstance(msg, CancelJob):
            msg.reply.set_result(await self._cancel(msg.job_id))
        elif isinstance(msg, IsActive):
            msg.reply.set_result(self._has(msg.job_id))
        elif isinstance(msg, QueueDepth):
            msg.reply.set_result(len(self._waiting))
        else:
            self._running.pop(msg.job_id, None)
            self._cancelled.discard(msg.job_id)
        self._start_what_fits()

    def _start_what_fits(self) -> None:
        while self._waiting and len(self._running) < self._limit:
            job = self._waiting.popleft()
            scope = anyio.CancelScope()
            self._running[job.id] = scope
            self.context.start_soon(self._run, job, scope)

    async def _run(self, job: Job, scope: anyio.CancelScope) -> None:
        try:
            with scope:
                await self._runner.run(job, cancelled_by_user=lambda: job.id in self._cancelled)
        finally:
            # Never wait here: during shutdown the mailbox may be closed already.
            with contextlib.suppress(ActorStopped):
                self.context.ref.try_tell(_Finished(job_id=job.id))

    def _has(self, job_id: str) -> bool:
        return job_id in self._running or any(job.id == job_id for job in self._waiting)

    async def _cancel(self, job_id: str) -> bool:
        if job_id in self._running:
            self._cancelled.add(job_id)
            self._running[job_id].cancel()
            return True
        for job in self._waiting:
            if job.id == job_id:
                self._waiting.remove(job)
                await self._runner.record(
                    JobCancelled(job_id=job_id),
                    msgspec.structs.replace(job, state=JobState.CANCELLED),
                )
                return True
        return False


def check_cancellable(job: Job) -> None:
    """Raise `invalid_state` for a job that has already ended."""
    if job.state.terminal:
        raise AudiograbError(ErrorCode.INVALID_STATE, f"job {job.id} is already {job.state.value}")
