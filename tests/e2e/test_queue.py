"""The priority queue with real jobs on loopback media: order, limits, restarts, retries."""

from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import anyio
import msgspec
import pytest

from audiograb.config import Settings
from audiograb.domain import (
    AudioFormat,
    ErrorCode,
    JobEvent,
    JobRequest,
    JobRetryScheduled,
    JobState,
    JobStateChanged,
    is_terminal,
)
from audiograb.pipeline import Audiograb, open_audiograb
from audiograb.store import open_store
from tests.e2e.api_support import running_api
from tests.mediaserver import MediaServer

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("database")]  # SQLite and PostgreSQL


def starts(log: Iterable[JobEvent]) -> list[str]:
    """Job ids in the order they left the queue for work."""
    return [
        e.job_id for e in log if isinstance(e, JobStateChanged) and e.previous is JobState.QUEUED
    ]


async def global_log(ag: Audiograb) -> list[JobEvent]:
    """Every event of every job, in log order (read on a connection of its own)."""
    async with open_store(ag.settings.database) as store:
        return [recorded.event for recorded in await store.all_events_after(0)]


async def until_downloading(ag: Audiograb, job_id: str) -> None:
    async with ag.subscribe(job_id) as events:
        async for recorded in events:
            if getattr(recorded.event, "state", None) is JobState.DOWNLOADING:
                return


def most_at_once(log: Iterable[JobEvent], platform_of: dict[str, str]) -> dict[str, int]:
    """The most jobs (in all, and of each platform) that were working at the same time."""
    working: set[str] = set()
    most: dict[str, int] = {}
    for event in log:
        if isinstance(event, JobStateChanged) and event.previous is JobState.QUEUED:
            working.add(event.job_id)
        elif is_terminal(event) or isinstance(event, JobRetryScheduled):
            working.discard(event.job_id)
        counts = {"all": len(working)}
        for job_id in working:
            counts[platform_of[job_id]] = counts.get(platform_of[job_id], 0) + 1
        for key, value in counts.items():
            most[key] = max(most.get(key, 0), value)
    return most


async def test_run_order_is_priority_then_arrival_and_waiting_jobs_can_move(
    settings: Settings, server: MediaServer
) -> None:
    settings = msgspec.structs.replace(settings, max_concurrent_jobs=1)
    server.slow("/long.m4a", bytes_per_second=50_000)
    async with running_api(settings) as api, api.client() as http:
        ag = api.ag

        async def submit(priority: int, path: str = "tone.mp3") -> str:
            body = {"url": server.url(path), "priority": priority}
            response = await http.post("/api/downloads", json=body)
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

        blocker = await submit(5, "long.m4a")
        with anyio.fail_after(20):
            await until_downloading(ag, blocker)
        b, c, d, e, f = [await submit(p) for p in (5, 9, 5, 1, 9)]
        queue = (await http.get("/api/queue")).json()
        assert [j["id"] for j in queue["running"]] == [blocker]
        assert queue["running"][0]["state"] == "downloading"
        assert [j["id"] for j in queue["waiting"]] == [c, f, b, d, e]
        moved = await http.patch(f"/api/queue/{e}", json={"priority": 10})
        assert moved.status_code == 200
        assert moved.json()["priority"] == 10
        assert (await http.patch(f"/api/queue/{blocker}", json={"priority": 1})).status_code == 409
        assert (await http.patch(f"/api/queue/{b}", json={"priority": 11})).status_code == 422
        queue = (await http.get("/api/queue")).json()
        assert [j["id"] for j in queue["waiting"]] == [e, c, f, b, d]
        await http.delete(f"/api/jobs/{blocker}")
        with anyio.fail_after(60):
            for job_id in (b, c, d, e, f):
                assert (await ag.wait(job_id)).state is JobState.COMPLETED
        assert starts(await global_log(ag)) == [blocker, e, c, f, b, d]


async def chunks(path: Path) -> AsyncIterator[bytes]:
    yield await anyio.Path(path).read_bytes()


async def test_global_and_platform_limits_hold_without_blocking_other_platforms(
    settings: Settings, server: MediaServer, media_root: Path
) -> None:
    settings = msgspec.structs.replace(
        settings, max_concurrent_jobs=2, platform_limits=("generic=1",)
    )
    server.slow("/tone.m4a", bytes_per_second=100_000)
    async with open_audiograb(settings) as ag:
        downloads = [await ag.submit(JobRequest(url=server.url("tone.m4a"))) for _ in range(3)]
        files = [
            await ag.submit_upload(
                chunks(media_root / "tone.opus"),
                "tone.opus",
                JobRequest(url="", format=fmt),
                max_bytes=10**7,
            )
            for fmt in (AudioFormat.MP3, AudioFormat.FLAC, AudioFormat.WAV)
        ]
        with anyio.fail_after(90):
            for job in [*downloads, *files]:
                assert (await ag.wait(job.id)).state is JobState.COMPLETED
        log = await global_log(ag)
    platform_of = {job.id: job.platform for job in [*downloads, *files]}
    # Two at once in all, never two downloads: the second slot went to the uploads.
    assert most_at_once(log, platform_of) == {"all": 2, "generic": 1, "upload": 1}
    order = starts(log)
    assert order.index(files[0].id) < order.index(downloads[1].id)  # not held up by generic


async def test_the_queue_is_restored_in_priority_order_after_a_restart(
    settings: Settings, server: MediaServer
) -> None:
    settings = msgspec.structs.replace(settings, max_concurrent_jobs=1)
    server.slow("/long.m4a", bytes_per_second=50_000)
    async with open_audiograb(settings) as ag:
        first = await ag.submit(JobRequest(url=server.url("long.m4a")))
        with anyio.fail_after(20):
            await until_downloading(ag, first.id)
        low = await ag.submit(JobRequest(url=server.url("tone.mp3"), priority=2))
        high = await ag.submit(JobRequest(url=server.url("tone.mp3"), priority=8))
        same = await ag.submit(JobRequest(url=server.url("tone.mp3")))
    server.slow("/long.m4a", bytes_per_second=None)
    async with open_audiograb(settings, serve=True) as ag:
        with anyio.fail_after(60):
            for job in (first, low, high, same):
                assert (await ag.wait(job.id)).state is JobState.COMPLETED
        order = starts(await global_log(ag))
    assert order == [first.id, high.id, first.id, same.id, low.id]


async def test_transient_failures_are_retried_with_backoff_and_permanent_ones_are_not(
    settings: Settings, server: MediaServer
) -> None:
    settings = msgspec.structs.replace(
        settings,
        download_retries=0,
        fragment_retries=0,
        retry_limit=3,
        retry_base_delay=0.2,
        retry_max_delay=0.5,
    )
    server.drop_after("/tone.m4a", 2_000, times=3)  # an attempt may make several requests
    async with open_audiograb(settings) as ag:
        flaky = await ag.submit(JobRequest(url=server.url("tone.m4a")))
        missing = await ag.submit(JobRequest(url=server.url("nothing-here.mp3")))
        with anyio.fail_after(60):
            done = await ag.wait(flaky.id)
            failed = await ag.wait(missing.id)
        async with ag.subscribe(flaky.id) as events:
            log = [recorded.event async for recorded in events]
    retries = [e for e in log if isinstance(e, JobRetryScheduled)]
    assert done.state is JobState.COMPLETED, done.error
    assert 1 <= len(retries) <= 3
    assert [r.retry for r in retries] == list(range(1, len(retries) + 1))
    assert all(r.error.code.retryable for r in retries)
    assert all(r.retry_at - r.at >= 0.1 for r in retries)  # at least half the base delay
    restarts = [
        e.at for e in log if isinstance(e, JobStateChanged) and e.previous is JobState.QUEUED
    ]
    for retry, restart in zip(retries, restarts[1:], strict=True):
        assert restart >= retry.retry_at  # never before its time
    assert failed.state is JobState.FAILED
    assert failed.error is not None
    assert failed.error.code is ErrorCode.NOT_FOUND
    assert failed.retries == 0
