"""Scheduled downloads: at an ISO 8601 time with a time zone, once or by a cron expression.

Times are stored as Unix time (UTC). The `Planner` actor keeps one alarm on the injected clock
for the earliest active schedule and, when the clock reaches it, submits the job; it never
fires early because it only fires schedules whose `run_at` is at or before the clock's now.
The schedule advances to its next run (or is done) in the same transaction that stores the
job (an append hook), so across a crash or restart a run is neither lost nor made twice. Runs
missed while the server was down are made up for once, at start, not once per missed run.
When several processes serve one data folder, each planner may see a run due; the append hook
stores the job only if the schedule still stands at that run, so a run fires once.
"""

import contextlib
import datetime as dt
import logging
import zoneinfo
from collections.abc import Awaitable, Callable
from typing import Protocol

import msgspec

from actors import Actor, ActorStopped
from audiograb.domain import AudiograbError, ErrorCode, Job, JobRequest, JobSubmitted, new_job_id
from audiograb.pipeline.clock import Alarm, Clock
from audiograb.pipeline.cron import CronExpression
from audiograb.pipeline.errors import NotFoundError
from audiograb.store import (
    JobStore,
    Schedule,
    ScheduleState,
    ScheduleStore,
    StoredEvent,
    Transaction,
)

__all__ = [
    "PLANNER_MAILBOX",
    "Planner",
    "ScheduleHook",
    "Schedules",
    "Wake",
    "job_for",
    "parse_time",
    "zone_of",
]

_log = logging.getLogger(__name__)

#: Wake-ups waiting for the planner; one is as good as many.
PLANNER_MAILBOX = 16


def parse_time(text: str) -> float:
    """Unix time of an ISO 8601 time naming its offset (`Z`, `+08:00`); else `invalid_request`.

    The instant must also be a date in UTC (years 1 to 9999): schedules show it as one.
    """
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise AudiograbError(ErrorCode.INVALID_REQUEST, f"not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise AudiograbError(
            ErrorCode.INVALID_REQUEST,
            f"{text!r} has no time zone: add `Z` (UTC) or an offset such as `+08:00`",
        )
    try:  # an offset can push a time at either end of the calendar out of it
        moment.astimezone(dt.UTC)
    except OverflowError:
        raise AudiograbError(
            ErrorCode.INVALID_REQUEST, f"{text!r} falls outside the years 1 to 9999 in UTC"
        ) from None
    return moment.timestamp()


def zone_of(name: str) -> dt.tzinfo:
    """The IANA time zone `name` (`UTC`, `Europe/Berlin`); `invalid_request` if unknown."""
    if name.upper() == "UTC":
        return dt.UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise AudiograbError(ErrorCode.INVALID_REQUEST, f"unknown time zone {name!r}") from None


def _cron(text: str) -> CronExpression:
    try:
        return CronExpression.parse(text)
    except ValueError as error:
        raise AudiograbError(ErrorCode.INVALID_REQUEST, f"bad cron expression: {error}") from None


def next_run(schedule: Schedule, after: float) -> float | None:
    """The run of a recurring schedule after `after`; None for a one-off."""
    if schedule.cron is None:
        return None
    return _cron(schedule.cron).next_after(after, zone_of(schedule.timezone))


class AlreadyFiredError(AudiograbError):
    """A schedule's run was fired by another process first; its job is not stored."""

    def __init__(self, schedule_id: str) -> None:
        super().__init__(ErrorCode.INVALID_STATE, f"schedule {schedule_id} has fired already")


class ScheduleHook:
    """The append hook that advances a schedule when the job it fired is stored."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def on_append(self, tx: Transaction, stored: StoredEvent, job: Job) -> None:
        """On a scheduled job's `job.submitted`: move its schedule on, in the same commit."""
        if job.schedule_id is None or job.scheduled_for is None:
            return
        if not isinstance(stored.event, JobSubmitted):
            return
        schedule = await tx.schedule(job.schedule_id)
        if schedule is None:
            return
        after = max(job.scheduled_for, self._clock.now())
        advanced = await tx.fire_schedule(
            schedule.id,
            due_at=job.scheduled_for,
            next_run_at=next_run(schedule, after),
            job_id=job.id,
        )
        if not advanced:  # another process fired this run first: store no second job
            raise AlreadyFiredError(schedule.id)


class Wake(msgspec.Struct, frozen=True, kw_only=True):
    """Schedules changed (or the alarm rang): look again."""


Fire = Callable[[Schedule], Awaitable[Job]]
"""Submits the job of a due schedule (with `schedule_id` and `scheduled_for` set)."""


class Planner(Actor[Wake]):
    """Fires due schedules; sleeps on an alarm until the next one."""

    def __init__(self, store: ScheduleStore, clock: Clock, fire: Fire) -> None:
        self._store = store
        self._clock = clock
        self._fire = fire
        self._alarm = Alarm(clock, self._ring)

    async def on_start(self) -> None:
        self.context.start_soon(self._alarm.run)
        await self._check()

    async def receive(self, msg: Wake) -> None:
        await self._check()

    def _ring(self) -> None:
        with contextlib.suppress(ActorStopped):
            self.context.ref.try_tell(Wake())

    async def _check(self) -> None:
        for schedule in await self._store.due(self._clock.now()):
            try:
                await self._fire(schedule)
            except AlreadyFiredError:
                continue
            except AudiograbError as error:  # keep the others going; the next wake tries again
                _log.warning("schedule %s could not fire: %s", schedule.id, error.message)
        self._alarm.set(await self._store.next_run_at())


def job_for(schedule: Schedule, output_dir: str, clock: Clock) -> Job:
    """The job a due schedule submits: its request, made now, marked with the schedule."""
    now = clock.now()
    return Job(
        id=new_job_id(),
        request=schedule.request,
        platform=schedule.platform,
        output_dir=output_dir,
        schedule_id=schedule.id,
        scheduled_for=schedule.run_at,
        created_at=now,
        updated_at=now,
    )


class _Jobs(Protocol):
    """What schedules need of the facade."""

    async def prepare(self, request: JobRequest) -> Job: ...


class Schedules:
    """Create, list, move and cancel scheduled downloads (`Audiograb.schedules`)."""

    def __init__(self, store: JobStore, jobs: _Jobs, clock: Clock) -> None:
        self._store = ScheduleStore(store)
        self._jobs = jobs
        self._clock = clock
        self._wake: Callable[[], object] = lambda: None

    def connect(self, wake: Callable[[], object]) -> None:
        """Call `wake()` after every change (the planner, once it runs)."""
        self._wake = wake

    async def create(
        self,
        request: JobRequest,
        *,
        at: str | None = None,
        cron: str | None = None,
        timezone: str = "UTC",
    ) -> Schedule:
        """Plan `request` for `at` (ISO 8601 with a zone), and/or by `cron` read in `timezone`.

        With both, the first run is at `at` and the later ones follow `cron`. The URL is checked
        now, like a submission; a time in the past runs at once.
        """
        if at is None and cron is None:
            raise AudiograbError(ErrorCode.INVALID_REQUEST, "give a time (at), a cron, or both")
        zone = zone_of(timezone)
        expression = _cron(cron) if cron is not None else None
        now = self._clock.now()
        run_at = parse_time(at) if at is not None else None
        if run_at is None and expression is not None:
            run_at = expression.next_after(now, zone)
        if run_at is None:
            raise AudiograbError(ErrorCode.INVALID_REQUEST, f"cron {cron!r} never runs")
        job = await self._jobs.prepare(request)
        schedule = Schedule(
            id=new_job_id(),
            request=job.request,
            platform=job.platform,
            run_at=run_at,
            cron=expression.text if expression is not None else None,
            timezone=timezone if zone is not dt.UTC else "UTC",
            created_at=now,
        )
        await self._store.insert(schedule)
        self._wake()
        return schedule

    async def get(self, schedule_id: str) -> Schedule:
        """The schedule; `NotFoundError` when there is none."""
        schedule = await self._store.get(schedule_id)
        if schedule is None:
            raise NotFoundError("schedule", schedule_id)
        return schedule

    async def recent(
        self, *, states: tuple[ScheduleState, ...] = (), limit: int = 100, offset: int = 0
    ) -> list[Schedule]:
        """Schedules by next run, optionally only in `states`."""
        return await self._store.recent(states=states, limit=limit, offset=offset)

    async def move(self, schedule_id: str, at: str) -> Schedule:
        """Move an active schedule's next run to `at` (ISO 8601 with a zone)."""
        run_at = parse_time(at)
        await self._change(schedule_id, await self._store.move(schedule_id, run_at))
        return await self.get(schedule_id)

    async def cancel(self, schedule_id: str) -> Schedule:
        """Cancel an active schedule (a job it already made is not touched)."""
        await self._change(schedule_id, await self._store.cancel(schedule_id))
        return await self.get(schedule_id)

    async def _change(self, schedule_id: str, changed: bool) -> None:
        if not changed:
            schedule = await self.get(schedule_id)
            raise AudiograbError(
                ErrorCode.INVALID_STATE, f"schedule {schedule_id} is {schedule.state.value}"
            )
        self._wake()
