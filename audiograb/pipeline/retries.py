"""Automatic retries of jobs after transient failures, with exponential backoff and jitter.

Only errors whose code is `retryable` (network trouble, a download cut off, an interrupted
run) are retried, at most `limit` times per attempt; a permanent failure (unsupported, not
found, auth required, ...) ends the job at once. The retry is recorded as `job.retry` with the
job queued again and its `retry_at`, so the queue holds it back until then, across restarts.
"""

import random

import msgspec

from audiograb.config import Settings
from audiograb.domain import AudiograbError, Job, JobRetryScheduled, JobState
from audiograb.pipeline.clock import Clock

__all__ = ["RetryPolicy", "backoff"]


def backoff(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait before try `attempt + 1` (`attempt` ≥ 1 failures so far).

    Exponential (`base`, doubling, at most `cap`) with "equal jitter": a random point in the
    upper half, so retries of many jobs that failed together spread out but never come early.
    """
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 62))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


class RetryPolicy:
    """Decides whether and when a failed job runs again."""

    def __init__(
        self,
        *,
        limit: int,
        base_delay: float,
        max_delay: float,
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self.limit = limit
        self._base = base_delay
        self._cap = max_delay
        self._clock = clock
        self._rng = rng or random.Random()

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock) -> "RetryPolicy":
        """The policy the settings ask for."""
        return cls(
            limit=settings.retry_limit,
            base_delay=settings.retry_base_delay,
            max_delay=settings.retry_max_delay,
            clock=clock,
        )

    def plan(self, job: Job, error: AudiograbError) -> tuple[Job, JobRetryScheduled] | None:
        """The job queued for its next try and the event that says so; None: do not retry."""
        if not error.code.retryable or job.retries >= self.limit:
            return None
        retry = job.retries + 1
        at = self._clock.now() + backoff(retry, self._base, self._cap, self._rng)
        queued = msgspec.structs.replace(
            job, state=JobState.QUEUED, error=error.to_job_error(), retries=retry, retry_at=at
        )
        event = JobRetryScheduled(
            job_id=job.id, error=error.to_job_error(), retry=retry, retry_at=at
        )
        return queued, event
