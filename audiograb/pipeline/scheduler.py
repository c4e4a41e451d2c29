"""The scheduler actor: the persistent priority queue, the concurrency limits, and cancellation.

Jobs wait by priority (1-10, higher first), first in, first out within a level, and run as
tasks of this actor: at most `limit` at a time, and at most `platform_limits[p]` of platform
`p`. A job held back by a full platform does not hold up the jobs of other platforms.

The queue is persistent because the jobs are: every job not yet ended is in the store with its
priority and arrival time, and `Audiograb.resume_unfinished` enqueues them all again at start,
which rebuilds the same order. A job waiting for an automatic retry (its `retry_at` ahead) is
held back until then by an alarm on the injected clock.

A user's cancel stops a running job through its cancel scope (the runner then stops the worker
thread and removes the work folder); a waiting job is simply taken out of the queue.
"""

import contextlib
import math
from collections import Counter

import anyio
import msgspec

from actors import Actor, ActorStopped, Reply
from audiograb.domain import (
    MAX_PRIORITY,
    MIN_PRIORITY,
    AudiograbError,
    ErrorCode,
    Job,
    JobCancelled,
    JobPriorityChanged,
    JobState,
)
from audiograb.pipeline.clock import Alarm, Clock, SystemClock
from audiograb.pipeline.queue import WaitQueue, with_priority
from audiograb.pipeline.runner import JobRunner

__all__ = [
    "SCHEDULER_MAILBOX",
    "CancelJob",
    "Enqueue",
    "IsActive",
    "QueueDepth",
    "QueueSnapshot",
    "Restore",
    "Scheduler",
    "SchedulerMessage",
    "SetPriority",
    "Snapshot",
]


class Enqueue(msgspec.Struct, frozen=True, kw_only=True):
    """Run `job` when its turn comes (and not before its `retry_at`)."""

    job: Job


class Restore(msgspec.Struct, frozen=True, kw_only=True):
    """Queue every job a previous process left unfinished, all at once: none starts before
    all are in, so the first to start is the first in priority order."""

    jobs: list[Job]


class CancelJob(msgspec.Struct, frozen=True, kw_only=True):
    """Stop the job, queued or running; the reply says whether this scheduler had it."""

    job_id: str
    reply: Reply[bool]


class IsActive(msgspec.Struct, frozen=True, kw_only=True):
    """Whether the job is queued or running here."""

    job_id: str
    reply: Reply[bool]


class QueueDepth(msgspec.Struct, frozen=True, kw_only=True):
    """How many jobs wait (for a slot or for their retry time)."""

    reply: Reply[int]


class SetPriority(msgspec.Struct, frozen=True, kw_only=True):
    """Change a waiting job's priority; answers the job as stored afterwards."""

    job_id: str
    priority: int
    reply: Reply[Job]


class QueueSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The queue as it stands: running jobs (as they started), then the waiting ones in order."""

    running: list[Job]
    waiting: list[Job]
    """In run order, ignoring limits."""
    delayed: list[Job]
    """Waiting for their automatic retry, soonest first."""
    limit: int
    platform_limits: dict[str, int]


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    """Describe the queue."""

    reply: Reply[QueueSnapshot]


class _Finished(msgspec.Struct, frozen=True, kw_only=True):
    job_id: str
    job: Job | None
    """How the run left the job; None when it was cut short by a shutdown."""


class _Due(msgspec.Struct, frozen=True, kw_only=True):
    """The alarm rang: a delayed job's time has come."""


SchedulerMessage = (
    Enqueue
    | Restore
    | CancelJob
    | IsActive
    | QueueDepth
    | SetPriority
    | Snapshot
    | _Finished
    | _Due
)

#: Commands waiting for the scheduler; submits wait for room when it is full.
SCHEDULER_MAILBOX = 256
#: Seconds a finished run may wait for room in the scheduler's own mailbox to say so.
FINISH_DEADLINE = 5.0


class Scheduler(Actor[SchedulerMessage]):
    """Starts queued jobs by priority and arrival, keeping within the limits."""

    def __init__(
        self,
        runner: JobRunner,
        limit: int,
        *,
        platform_limits: dict[str, int] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._runner = runner
        self._limit = limit
        self._platform_limits = dict(platform_limits or {})
        self._clock = clock or SystemClock()
        self._waiting = WaitQueue()
        self._delayed: dict[str, Job] = {}
        self._running: dict[str, tuple[Job, anyio.CancelScope]] = {}
        self._per_platform: Counter[str] = Counter()
        self._cancelled: set[str] = set()
        self._alarm = Alarm(self._clock, self._ring)

    async def on_start(self) -> None:
        self.context.start_soon(self._alarm.run)

    async def receive(self, msg: SchedulerMessage) -> None:
        if isinstance(msg, Enqueue):
            self._admit(msg.job)
        elif isinstance(msg, Restore):
            for job in msg.jobs:
                self._admit(job)
        elif isinstance(msg, CancelJob):
            msg.reply.set_result(await self._cancel(msg.job_id))
        elif isinstance(msg, IsActive):
            msg.reply.set_result(self._has(msg.job_id))
        elif isinstance(msg, QueueDepth):
            msg.reply.set_result(len(self._waiting) + len(self._delayed))
        elif isinstance(msg, SetPriority):
            msg.reply.set_result(await self._set_priority(msg.job_id, msg.priority))
        elif isinstance(msg, Snapshot):
            msg.reply.set_result(self._snapshot())
        elif isinstance(msg, _Finished):
            self._finished(msg)
        self._release_due()
        self._start_what_fits()

    # -- the queue --------------------------------------------------------------------------

    def _admit(self, job: Job) -> None:
        if self._has(job.id):
            return
        if job.retry_at is not None and job.retry_at > self._clock.now():
            self._delayed[job.id] = job
        else:
            self._waiting.push(job)

    def _release_due(self) -> None:
        now = self._clock.now()
        for job in [job for job in self._delayed.values() if (job.retry_at or 0) <= now]:
            del self._delayed[job.id]
            self._waiting.push(job)
        self._alarm.set(min((job.retry_at or 0 for job in self._delayed.values()), default=None))

    def _ring(self) -> None:
        # A full mailbox means messages are coming anyway, and each one releases due jobs.
        with contextlib.suppress(ActorStopped):
            self.context.ref.try_tell(_Due())

    def _has_room(self, platform: str) -> bool:
        return self._per_platform[platform] < self._platform_limits.get(platform, math.inf)

    def _start_what_fits(self) -> None:
        while len(self._running) < self._limit:
            job = self._waiting.pop_next(self._has_room)
            if job is None:
                return
            job = msgspec.structs.replace(job, retry_at=None)
            scope = anyio.CancelScope()
            self._running[job.id] = (job, scope)
            self._per_platform[job.platform] += 1
            self.context.start_soon(self._run, job, scope)

    async def _run(self, job: Job, scope: anyio.CancelScope) -> None:
        final: Job | None = None
        try:
            with scope:
                final = await self._runner.run(
                    job, cancelled_by_user=lambda: job.id in self._cancelled
                )
        finally:
            await self._say_finished(_Finished(job_id=job.id, job=final))

    async def _say_finished(self, msg: _Finished) -> None:
        # During shutdown the mailbox may be closed already: then nobody needs to know.
        with contextlib.suppress(ActorStopped):
            if not self.context.ref.try_tell(msg):
                with anyio.CancelScope(shield=True), anyio.move_on_after(FINISH_DEADLINE):
                    await self.context.ref.tell(msg)

    def _finished(self, msg: _Finished) -> None:
        started = self._running.pop(msg.job_id, None)
        if started is not None:
            self._per_platform[started[0].platform] -= 1
        self._cancelled.discard(msg.job_id)
        if msg.job is not None and msg.job.state is JobState.QUEUED:  # an automatic retry
            self._admit(msg.job)

    def _has(self, job_id: str) -> bool:
        return job_id in self._running or job_id in self._waiting or job_id in self._delayed

    # -- requests ---------------------------------------------------------------------------

    async def _cancel(self, job_id: str) -> bool:
        if job_id in self._running:
            self._cancelled.add(job_id)
            self._running[job_id][1].cancel()
            return True
        job = self._waiting.remove(job_id) or self._delayed.pop(job_id, None)
        if job is None:
            return False
        await self._runner.record(
            JobCancelled(job_id=job_id), msgspec.structs.replace(job, state=JobState.CANCELLED)
        )
        return True

    async def _set_priority(self, job_id: str, priority: int) -> Job:
        if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
            raise AudiograbError(
                ErrorCode.INVALID_REQUEST,
                f"priority must be {MIN_PRIORITY} to {MAX_PRIORITY}, not {priority}",
            )
        job = self._waiting.get(job_id) or self._delayed.get(job_id)
        if job is None:
            state = "running" if job_id in self._running else "not waiting in the queue"
            raise AudiograbError(ErrorCode.INVALID_STATE, f"job {job_id} is {state}")
        changed = with_priority(job, priority)
        if job_id in self._delayed:
            self._delayed[job_id] = changed
        else:
            self._waiting.replace(changed)
        event = JobPriorityChanged(job_id=job_id, priority=priority, previous=job.request.priority)
        await self._runner.record(event, changed)
        return changed

    def _snapshot(self) -> QueueSnapshot:
        return QueueSnapshot(
            running=[job for job, _ in self._running.values()],
            waiting=self._waiting.ordered(),
            delayed=sorted(self._delayed.values(), key=lambda job: job.retry_at or 0),
            limit=self._limit,
            platform_limits=dict(self._platform_limits),
        )
