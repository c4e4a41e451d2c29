"""The queue in the store: claim order, limits across processes, leases and their fencing.

Two `JobStore`s on one database are two processes (or nodes) as far as the database is
concerned: each has its own connection, identity and leases. Every test runs on SQLite and on
PostgreSQL (the `database` fixture).
"""

import time
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from audiograb.domain import (
    AudiograbError,
    ErrorCode,
    Job,
    JobCompleted,
    JobPriorityChanged,
    JobRequest,
    JobState,
    JobStateChanged,
    JobSubmitted,
    LeaseLost,
)
from audiograb.pipeline.queue import with_priority
from audiograb.store import JobQueue, JobStore, open_store

pytestmark = pytest.mark.anyio


def job(name: str, *, priority: int = 5, at: float = 0.0, platform: str = "generic") -> Job:
    return Job(
        id=name,
        request=JobRequest(url=f"https://example.com/{name}", priority=priority),
        platform=platform,
        created_at=at,
    )


@pytest.fixture
async def store(database: Path | str) -> AsyncIterator[JobStore]:
    async with open_store(database, lease_seconds=5) as opened:
        yield opened


@pytest.fixture
async def other(database: Path | str, store: JobStore) -> AsyncIterator[JobStore]:
    """A second process (or node) on the same database."""
    async with open_store(database, lease_seconds=5) as opened:
        yield opened


async def submit(store: JobStore, *jobs: Job) -> None:
    for item in jobs:
        event = JobSubmitted(job_id=item.id, request=item.request, platform=item.platform)
        await store.append_event(event, job=item)


async def drain(queue: JobQueue, limits: dict[str, int] | None = None) -> list[str]:
    claimed = await queue.claim(count=100, now=time.time(), platform_limits=limits or {})
    return [found.job.id for found in claimed]


async def test_higher_priority_first_then_first_come(store: JobStore) -> None:
    await submit(
        store,
        job("a", at=1),
        job("b", priority=9, at=2),
        job("c", at=3),
        job("d", priority=1, at=0),
    )
    queue = JobQueue(store)
    assert [j.id for j in await queue.waiting(time.time())] == ["b", "a", "c", "d"]
    assert await drain(queue) == ["b", "a", "c", "d"]
    assert await queue.waiting(time.time()) == []


async def test_a_full_platform_does_not_hold_up_the_others_in_any_process(
    store: JobStore, other: JobStore
) -> None:
    await submit(
        store,
        job("yt1", priority=9, at=1, platform="youtube"),
        job("yt2", priority=9, at=2, platform="youtube"),
        job("gen", priority=1, at=3),
    )
    limits = {"youtube": 1}
    assert await drain(JobQueue(store), limits) == ["yt1", "gen"]
    assert await drain(JobQueue(other), limits) == []  # youtube is full, counted everywhere
    assert [j.id for j in await JobQueue(other).running()] == ["yt1", "gen"]


async def test_priority_changes_keep_arrival_order_among_equals(store: JobStore) -> None:
    await submit(store, *(job(name, at=index) for index, name in enumerate("abc")))
    for name in ("c", "a"):
        found = await store.get_job(name)
        assert found is not None
        event = JobPriorityChanged(job_id=name, priority=7, previous=5)
        await store.append_event(event, job=with_priority(found, 7))
    assert await drain(JobQueue(store)) == ["a", "c", "b"]


async def test_requeued_jobs_keep_their_arrival_from_the_job(store: JobStore) -> None:
    await submit(
        store, job("new", at=20), msgspec.structs.replace(job("old", at=10), queued_at=5.0)
    )
    assert await drain(JobQueue(store)) == ["old", "new"]


async def test_a_job_is_claimed_once_and_its_stale_lease_writes_nothing(
    store: JobStore, other: JobStore
) -> None:
    await submit(store, job("j"))
    mine, theirs = JobQueue(store), JobQueue(other)
    (first,) = await mine.claim(count=1, now=time.time(), platform_limits={})
    assert await theirs.claim(count=5, now=time.time(), platform_limits={}) == []
    await store.execute("UPDATE jobs SET lease_until = 0 WHERE id = 'j'")  # it lapsed
    (second,) = await theirs.claim(count=1, now=time.time(), platform_limits={})
    assert second.lease.attempt > first.lease.attempt
    done = msgspec.structs.replace(first.job, state=JobState.COMPLETED)
    completed = JobCompleted(job_id="j", output_path="/x", size_bytes=1, duration=None)
    log_before = await store.events_after("j")
    with pytest.raises(LeaseLost):
        await store.append_event(completed, job=done, lease=first.lease)
    assert await store.events_after("j") == log_before  # the stale completion changed nothing
    assert (await store.get_job("j")) == first.job
    await other.append_event(completed, job=done, lease=second.lease)
    assert [h.job_id for h in await theirs.held()] == []  # ended: the lease is released


async def test_a_lapsed_working_job_is_reclaimed_from_its_phase(
    store: JobStore, other: JobStore
) -> None:
    await submit(store, job("j"))
    (claimed,) = await JobQueue(store).claim(count=1, now=time.time(), platform_limits={})
    working = msgspec.structs.replace(claimed.job, state=JobState.DOWNLOADING)
    moved = JobStateChanged(job_id="j", state=JobState.DOWNLOADING, previous=JobState.QUEUED)
    await store.append_event(moved, job=working, lease=claimed.lease)
    assert await drain(JobQueue(other)) == []  # its lease is live
    await JobQueue(other).expire(store.identity)
    (again,) = await JobQueue(other).claim(count=1, now=time.time(), platform_limits={})
    assert again.job.state is JobState.QUEUED
    last = (await store.events_after("j"))[-1].event
    assert isinstance(last, JobStateChanged)
    assert (last.previous, last.state) == (JobState.DOWNLOADING, JobState.QUEUED)


async def test_writes_without_a_lease_are_refused_while_one_is_live(
    store: JobStore, other: JobStore
) -> None:
    await submit(store, job("j"))
    (claimed,) = await JobQueue(store).claim(count=1, now=time.time(), platform_limits={})
    retried = JobStateChanged(job_id="j", state=JobState.QUEUED, previous=JobState.QUEUED)
    with pytest.raises(AudiograbError) as refused:
        await other.append_event(retried, job=claimed.job)
    assert refused.value.code is ErrorCode.JOB_RUNNING


async def test_a_cancel_is_a_request_to_a_live_owner_and_a_claim_otherwise(
    store: JobStore, other: JobStore
) -> None:
    await submit(store, job("running"), job("waiting"))
    mine, theirs = JobQueue(store), JobQueue(other)
    await mine.claim(count=1, now=time.time(), platform_limits={})
    assert await theirs.request_cancel("running") is None
    assert [(h.job_id, h.cancel_requested) for h in await mine.held()] == [("running", True)]
    lease = await theirs.request_cancel("waiting")
    assert lease is not None
    assert lease.owner == other.identity


async def test_released_leases_are_claimed_again_at_once(store: JobStore, other: JobStore) -> None:
    await submit(store, job("j"))
    mine = JobQueue(store)
    await mine.claim(count=1, now=time.time(), platform_limits={})
    assert await mine.release_all() == 1
    assert await drain(JobQueue(other)) == ["j"]
