"""Automatic retries: transient failures only, with growing, jittered, bounded delays."""

import random

import pytest

from audiograb.domain import AudiograbError, ErrorCode, Job, JobRequest, JobState
from audiograb.pipeline.clock import ManualClock
from audiograb.pipeline.retries import RetryPolicy, backoff


def test_backoff_doubles_within_jitter_and_stays_under_the_cap() -> None:
    rng = random.Random(7)
    for attempt in range(1, 12):
        ceiling = min(60.0, 2.0 * 2 ** (attempt - 1))
        delay = backoff(attempt, 2.0, 60.0, rng)
        assert ceiling / 2 <= delay <= ceiling


def make(retries: int = 0) -> Job:
    return Job(
        id="j",
        request=JobRequest(url="https://e.com/a"),
        platform="generic",
        state=JobState.DOWNLOADING,
        retries=retries,
    )


@pytest.mark.parametrize(
    "code",
    [ErrorCode.NETWORK, ErrorCode.DOWNLOAD_FAILED, ErrorCode.INTERRUPTED],
    ids=lambda code: f"code-{code.value}",  # a bare `network` id would mark it as needing one
)
def test_transient_failures_are_retried_later(code: ErrorCode) -> None:
    clock = ManualClock(start=100.0)
    policy = RetryPolicy(limit=2, base_delay=10, max_delay=100, clock=clock)
    planned = policy.plan(make(), AudiograbError(code, "boom"))
    assert planned is not None
    job, event = planned
    assert job.state is JobState.QUEUED
    assert job.retries == 1 == event.retry
    assert job.retry_at == event.retry_at
    assert 105.0 <= event.retry_at <= 110.0
    assert job.error is not None
    assert job.error.code is code


@pytest.mark.parametrize(
    "code", [ErrorCode.UNSUPPORTED_URL, ErrorCode.NOT_FOUND, ErrorCode.AUTH_REQUIRED]
)
def test_permanent_failures_are_not(code: ErrorCode) -> None:
    policy = RetryPolicy(limit=5, base_delay=1, max_delay=1, clock=ManualClock())
    assert policy.plan(make(), AudiograbError(code, "no")) is None


def test_the_limit_holds() -> None:
    policy = RetryPolicy(limit=2, base_delay=1, max_delay=1, clock=ManualClock())
    assert policy.plan(make(retries=2), AudiograbError(ErrorCode.NETWORK, "down")) is None
