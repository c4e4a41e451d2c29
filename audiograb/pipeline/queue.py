"""The queue as the faces show it, and the small rules of its order.

The queue itself is the jobs table (`audiograb.store.JobQueue`): by priority (1-10, higher
first), then arrival, claimed by the processes on the data folder.
"""

import msgspec

from audiograb.domain import Job

__all__ = ["QueueSnapshot", "arrival_of", "with_priority"]


class QueueSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The queue as it stands: running jobs (as they started), then the waiting ones in order."""

    running: list[Job]
    """Jobs whose lease is live, in any process."""
    waiting: list[Job]
    """In run order, ignoring limits."""
    delayed: list[Job]
    """Waiting for their automatic retry, soonest first."""
    limit: int
    platform_limits: dict[str, int]


def arrival_of(job: Job) -> float:
    """When the job joined the queue: first in, first out within a priority level."""
    return job.queued_at if job.queued_at is not None else job.created_at


def with_priority(job: Job, priority: int) -> Job:
    """`job` asking for another priority."""
    return msgspec.structs.replace(
        job, request=msgspec.structs.replace(job.request, priority=priority)
    )
