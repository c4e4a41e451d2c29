"""Feeds join the stored log and the live topic: no gap, no duplicate, even when lagging."""

from pathlib import Path

import anyio
import pytest

from actors import Overflow, Topic
from audiograb.domain import (
    DownloadProgress,
    DownloadProgressed,
    Job,
    JobCompleted,
    JobEvent,
    JobRequest,
)
from audiograb.pipeline.feed import all_feed, job_feed
from audiograb.store import JobStore, StoredEvent, open_store

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def record(store: JobStore, topic: Topic[StoredEvent], event: JobEvent) -> None:
    topic.publish(await store.append_event(event))


def progress(job_id: str, done: int) -> DownloadProgressed:
    return DownloadProgressed(job_id=job_id, progress=DownloadProgress(downloaded_bytes=done))


async def test_a_lagging_job_feed_resyncs_from_the_store(tmp_path: Path) -> None:
    topic: Topic[StoredEvent] = Topic("events")
    async with open_store(tmp_path / "db.sqlite3") as store:
        await store.insert_job(Job(id="a", request=JobRequest(url="https://e.x/a"), platform="p"))
        await record(store, topic, progress("a", 0))  # before subscribing: from the store
        with topic.subscribe(buffer=2, overflow=Overflow.LAG) as live:
            for done in range(1, 20):  # far more than the buffer holds: the feed lags
                await record(store, topic, progress("a", done))
            await record(store, topic, JobCompleted(job_id="a", output_path="x", size_bytes=1))
            with anyio.fail_after(5):
                seen = [recorded.event async for recorded in job_feed(store, live, "a", 0)]
    assert [event.seq for event in seen] == list(range(1, 22))
    assert isinstance(seen[-1], JobCompleted)


async def test_a_job_feed_resumes_after_a_seq(tmp_path: Path) -> None:
    topic: Topic[StoredEvent] = Topic("events")
    async with open_store(tmp_path / "db.sqlite3") as store:
        await store.insert_job(Job(id="a", request=JobRequest(url="https://e.x/a"), platform="p"))
        for done in range(5):
            await record(store, topic, progress("a", done))
        with topic.subscribe(buffer=8, overflow=Overflow.LAG) as live:
            await record(store, topic, JobCompleted(job_id="a", output_path="x", size_bytes=1))
            with anyio.fail_after(5):
                seen = [recorded.event.seq async for recorded in job_feed(store, live, "a", 3)]
    assert seen == [4, 5, 6]


async def test_the_all_jobs_feed_interleaves_jobs_by_log_id(tmp_path: Path) -> None:
    topic: Topic[StoredEvent] = Topic("events")
    async with open_store(tmp_path / "db.sqlite3") as store:
        for job_id in ("a", "b"):
            job = Job(id=job_id, request=JobRequest(url=f"https://e.x/{job_id}"), platform="p")
            await store.insert_job(job)
        with topic.subscribe(buffer=2, overflow=Overflow.LAG) as live:
            for done in range(6):
                await record(store, topic, progress("ab"[done % 2], done))
            topic.close()
            with anyio.fail_after(5):
                seen = [recorded async for recorded in all_feed(store, live, 0)]
    assert [recorded.id for recorded in seen] == list(range(1, 7))
    assert [recorded.event.job_id for recorded in seen] == list("ababab")
