"""Schedules: downloads planned for a time (Unix time, UTC), once or by a cron expression."""

from enum import StrEnum

import msgspec

from audiograb.domain.job import JobRequest

__all__ = ["Schedule", "ScheduleState"]


class ScheduleState(StrEnum):
    """Where a schedule stands."""

    ACTIVE = "active"
    """Waiting for `run_at`."""
    DONE = "done"
    """A one-off that has fired, or a cron schedule with no run left."""
    CANCELLED = "cancelled"


class Schedule(msgspec.Struct, frozen=True, kw_only=True):
    """A planned download."""

    id: str
    request: JobRequest
    platform: str
    state: ScheduleState = ScheduleState.ACTIVE
    run_at: float | None
    """The next run, Unix time (UTC); None once no run is left."""
    cron: str | None = None
    """Five-field cron expression of a recurring schedule, read in `timezone`."""
    timezone: str = "UTC"
    created_at: float
    runs: int = 0
    last_job_id: str | None = None
