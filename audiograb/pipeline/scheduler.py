"""The scheduler actor: claims jobs from the queue in the store and runs them, keeping leases.

The queue is the jobs table (`audiograb.store.JobQueue`), shared by every process on the data
folder. This actor claims jobs (highest priority first, then arrival) while fewer than
`limit` of its own run, the platform limits counted over all processes; runs each as a task
of its own under the job's lease; renews its leases with a heartbeat; and carries out the
requests other processes leave in the store (a cancel). It keeps nothing that the store does
not also know: a restarted scheduler gives up the leases its crashed predecessor held, and
claims the jobs again from their last completed phase.

It looks at the store when told to (`Poke`): after a local submit or request, when another
process changed the database (the wake-up watcher), when a job's automatic retry falls due,
when another process's lease is about to lapse, and at each heartbeat.

A serving process (`serve=True`) claims any job. Otherwise it runs only what it submitted:
a job it submits while it has a free slot (and its platform no limit across processes) is
stored already owned by it; the others wait in the queue, marked with this process as their
origin, until it has a slot (a serving process may run them too). With `run_submitted=False`
it runs nothing: what it submits waits for a server.
"""

import contextlib
import logging
import os
import socket

import anyio
import msgspec

from actors import Actor, ActorStopped, Reply
from audiograb.domain import Claimed, Job, JobSubmitted, Lease
from audiograb.pipeline.clock import Alarm, Clock, SystemClock
from audiograb.pipeline.runner import JobRunner
from audiograb.store import QueueStore

__all__ = [
    "SCHEDULER_MAILBOX",
    "Crash",
    "Poke",
    "Scheduler",
    "SchedulerMessage",
    "Submit",
]

_log = logging.getLogger(__name__)


class Submit(msgspec.Struct, frozen=True, kw_only=True):
    """Store a new job (from `Audiograb.prepare`) as submitted; answers it as stored."""

    job: Job
    reply: Reply[Job]


class Poke(msgspec.Struct, frozen=True, kw_only=True):
    """The store may have changed: honour requests, claim what fits."""


class Crash(msgspec.Struct, frozen=True, kw_only=True):
    """A test hook: crash this actor, as a bug would, to show that a restart loses nothing."""


class _Finished(msgspec.Struct, frozen=True, kw_only=True):
    job_id: str
    job: Job | None
    """How the run left the job; None when it was cut short (a shutdown, a lost lease)."""


class _Beat(msgspec.Struct, frozen=True, kw_only=True):
    """Time to renew the leases."""


SchedulerMessage = Submit | Poke | Crash | _Finished | _Beat

#: Commands waiting for the scheduler; submits wait for room when it is full.
SCHEDULER_MAILBOX = 256
#: Seconds a finished run may wait for room in the scheduler's own mailbox to say so.
FINISH_DEADLINE = 5.0
#: Heartbeats per lease: a lease is renewed this many times before it would lapse.
BEATS_PER_LEASE = 3


class _Running(msgspec.Struct, kw_only=True):
    job: Job
    lease: Lease
    scope: anyio.CancelScope


class Scheduler(Actor[SchedulerMessage]):
    """Claims queued jobs by priority and arrival, runs them, keeps their leases."""

    def __init__(
        self,
        runner: JobRunner,
        queue: QueueStore,
        limit: int,
        *,
        serve: bool,
        run_submitted: bool = True,
        platform_limits: dict[str, int] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._runner = runner
        self._queue = queue
        self._limit = limit
        self._serve = serve
        self._run_submitted = run_submitted
        self._platform_limits = dict(platform_limits or {})
        self._clock = clock or SystemClock()
        self._running: dict[str, _Running] = {}
        self._cancelled: set[str] = set()
        self._retry_alarm = Alarm(self._clock, self._poke)
        self._lapse_alarm = Alarm(SystemClock(), self._poke)

    async def on_start(self) -> None:
        # Leases held by a crashed instance of this actor: their runs are gone, so give the
        # jobs back to the queue, to be claimed again (here or elsewhere) from their last phase.
        await self._queue.release_all()
        await self._expire_the_dead()
        self.context.start_soon(self._retry_alarm.run)
        self.context.start_soon(self._lapse_alarm.run)
        self.context.start_soon(self._heartbeat)
        await self._look()

    async def on_stop(self) -> None:
        # The runs were cancelled (a shutdown or a crash) without recording anything: let any
        # process take their jobs over at once rather than after the lease lapses.
        with anyio.CancelScope(shield=True):
            await self._queue.release_all()

    async def receive(self, msg: SchedulerMessage) -> None:
        if isinstance(msg, Submit):
            msg.reply.set_result(await self._submit(msg.job))
        elif isinstance(msg, Crash):
            raise RuntimeError("scheduler crashed on purpose (test hook)")
        elif isinstance(msg, _Finished):
            self._finished(msg)
        elif isinstance(msg, _Beat):
            await self._queue.renew()
            await self._expire_the_dead()
        await self._look()

    # -- submitting -------------------------------------------------------------------------

    async def _submit(self, job: Job) -> Job:
        event = JobSubmitted(job_id=job.id, request=job.request, platform=job.platform)
        if self._serve or not self._run_submitted:
            await self._runner.record(event, job)
            return job
        if len(self._running) < self._limit and job.platform not in self._platform_limits:
            # Stored owned by this process: nobody else can take it before it starts here.
            lease = Lease(job_id=job.id, owner=self._queue.owner, attempt=1)
            await self._runner.record(event, job, lease)
            self._start(Claimed(job=job, lease=lease, cancel_requested=False))
        else:
            await self._runner.record(event, job)
        return job

    # -- looking at the store ---------------------------------------------------------------

    async def _look(self) -> None:
        await self._honour_requests()
        room = self._limit - len(self._running)
        if self._serve or self._run_submitted:
            for claimed in await self._queue.claim(
                count=room,
                now=self._clock.now(),
                platform_limits=self._platform_limits,
                only_mine=not self._serve,
            ):
                self._start(claimed)
        due = await self._queue.next_due(self._clock.now(), only_mine=not self._serve)
        self._retry_alarm.set(due)
        if self._serve:
            self._lapse_alarm.set(await self._queue.next_expiry())

    async def _honour_requests(self) -> None:
        """Stop runs whose job was cancelled by request, or whose lease is not ours any more."""
        if not self._running:
            return
        held = {entry.job_id: entry for entry in await self._queue.held()}
        for job_id, running in self._running.items():
            entry = held.get(job_id)
            if entry is None or entry.lease_attempt != running.lease.attempt:
                running.scope.cancel()  # lost: the new owner records what happens next
            elif entry.cancel_requested and job_id not in self._cancelled:
                self._cancelled.add(job_id)
                running.scope.cancel()

    async def _expire_the_dead(self) -> None:
        """End at once the leases of owners on this machine whose process is gone."""
        if not self._serve:
            return
        for owner in await self._queue.owners():
            if owner != self._queue.owner and _process_gone(owner):
                _log.info("owner %s is gone: its jobs are taken over", owner)
                await self._queue.expire(owner)

    def _poke(self) -> None:
        # A full mailbox means messages are coming anyway, and each one looks again.
        with contextlib.suppress(ActorStopped):
            self.context.ref.try_tell(Poke())

    async def _heartbeat(self) -> None:
        while True:
            await anyio.sleep(self._queue.lease_seconds / BEATS_PER_LEASE)
            with contextlib.suppress(ActorStopped):
                await self.context.ref.tell(_Beat())

    # -- running ----------------------------------------------------------------------------

    def _start(self, claimed: Claimed) -> None:
        job = msgspec.structs.replace(claimed.job, retry_at=None)
        running = _Running(job=job, lease=claimed.lease, scope=anyio.CancelScope())
        self._running[job.id] = running
        if claimed.cancel_requested:
            self._cancelled.add(job.id)
            running.scope.cancel()
        self.context.start_soon(self._run, running)

    async def _run(self, running: _Running) -> None:
        final: Job | None = None
        job_id = running.job.id
        try:
            with running.scope:
                if job_id in self._cancelled:  # claimed with a cancel request waiting
                    final = await self._runner.cancel_claimed(running.job, running.lease)
                else:
                    final = await self._runner.run(
                        running.job,
                        running.lease,
                        cancelled_by_user=lambda: job_id in self._cancelled,
                    )
        finally:
            await self._say_finished(_Finished(job_id=job_id, job=final))

    async def _say_finished(self, msg: _Finished) -> None:
        # During shutdown the mailbox may be closed already: then nobody needs to know.
        with contextlib.suppress(ActorStopped):
            if not self.context.ref.try_tell(msg):
                with anyio.CancelScope(shield=True), anyio.move_on_after(FINISH_DEADLINE):
                    await self.context.ref.tell(msg)

    def _finished(self, msg: _Finished) -> None:
        self._running.pop(msg.job_id, None)
        self._cancelled.discard(msg.job_id)


def _process_gone(owner: str) -> bool:
    """Whether `owner` (host:pid:nonce) names a process of this machine that has ended."""
    host, pid, _ = owner.rsplit(":", 2)
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False
