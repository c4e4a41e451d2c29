"""Job ownership through the store: leases, takeovers, requests across processes.

Each test puts real processes (or a crashed actor) on one SQLite data folder and checks that
no job is lost and none runs twice.
"""

import datetime as dt
import json
import os
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import msgspec
import pytest
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

from audiograb.config import Settings
from audiograb.domain import (
    Job,
    JobCompleted,
    JobEvent,
    JobRequest,
    JobState,
    JobStateChanged,
    JobSubmitted,
    Lease,
    LeaseLost,
    new_job_id,
)
from audiograb.pipeline import Audiograb, open_audiograb
from audiograb.pipeline.clock import ManualClock
from audiograb.pipeline.scheduler import Crash
from audiograb.store import MessageStatus, WebhookStore, open_store
from tests.e2e.test_queue import until_downloading
from tests.mediaserver import MediaServer
from tests.webhookreceiver import WebhookReceiver, webhook_receiver

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.usefixtures("database")]


def moment_in(seconds: float) -> str:
    """An ISO 8601 time (with its zone) `seconds` from now."""
    return dt.datetime.fromtimestamp(time.time() + seconds, dt.UTC).isoformat()


def starts(log: list[JobEvent], job_id: str) -> int:
    """How many times the job left the queue for work."""
    return sum(
        1
        for e in log
        if isinstance(e, JobStateChanged) and e.job_id == job_id and e.previous is JobState.QUEUED
    )


async def job_log(ag: Audiograb, job_id: str) -> list[JobEvent]:
    async with ag.subscribe(job_id) as events:
        return [recorded.event async for recorded in events]


async def test_a_crashed_scheduler_loses_no_waiting_or_running_job(
    settings: Settings, server: MediaServer
) -> None:
    settings = msgspec.structs.replace(settings, max_concurrent_jobs=1)
    server.slow("/long.m4a", bytes_per_second=200_000)
    async with open_audiograb(settings) as ag:
        running = await ag.submit(JobRequest(url=server.url("long.m4a")))
        waiting = [await ag.submit(JobRequest(url=server.url("tone.mp3"))) for _ in range(2)]
        with anyio.fail_after(30):
            await until_downloading(ag, running.id)
        await ag._scheduler.tell(Crash())  # the test hook: the actor fails as a bug would
        with anyio.fail_after(90):
            for job in (running, *waiting):
                assert (await ag.wait(job.id)).state is JobState.COMPLETED
        logs = {job.id: await job_log(ag, job.id) for job in (running, *waiting)}
    assert starts(logs[running.id], running.id) == 2  # started again after the crash
    for job in waiting:
        assert starts(logs[job.id], job.id) == 1
    for log in logs.values():
        assert sum(isinstance(e, JobCompleted) for e in log) == 1


# A second `serve` process on the same data folder: it serves the queue, submits one slow
# download and says so once the download has started, then runs until it is killed.
SERVER = """
import sys, anyio
from audiograb.config import load_settings
from audiograb.domain import JobRequest, JobState
from audiograb.pipeline import open_audiograb

async def main() -> None:
    settings = load_settings(data_dir=sys.argv[1], output_dir=sys.argv[2], max_concurrent_jobs=1,
                             allow_private_networks=True, progress_interval=0.05,
                             webhook_url=sys.argv[4], lease_seconds=3)
    async with open_audiograb(settings, serve=True) as ag:
        job = await ag.submit(JobRequest(url=sys.argv[3]))
        async with ag.subscribe(job.id) as events:
            async for recorded in events:
                if getattr(recorded.event, "state", None) is JobState.DOWNLOADING:
                    break
        print(job.id, flush=True)
        await anyio.sleep_forever()

anyio.run(main)
"""


@asynccontextmanager
async def child(script: str, *args: str) -> AsyncIterator[tuple[str, Process]]:
    """A Python child running `script`; yields its first line and the process (killed after)."""
    argv = [sys.executable, "-c", script, *args]
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    async with await anyio.open_process(argv, env=env, stderr=None) as process:
        assert process.stdout is not None
        with anyio.fail_after(60):
            line = await BufferedByteReceiveStream(process.stdout).receive_until(b"\n", 4096)
        try:
            yield line.decode().strip(), process
        finally:
            if process.returncode is None:
                process.kill()
            await process.wait()


async def delivered_types(store_path: Path | str, job_id: str) -> set[str]:
    async with open_store(store_path) as store:
        messages = await WebhookStore(store).messages(job_id=job_id)
    return {m.type for m in messages if m.status is MessageStatus.DELIVERED}


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as receiver:
        yield receiver


async def test_two_servers_one_killed_mid_download_the_other_finishes_the_job_once(
    settings: Settings, server: MediaServer, hooks: WebhookReceiver
) -> None:
    settings = msgspec.structs.replace(settings, webhook_url=hooks.url(), lease_seconds=3)
    server.slow("/long.m4a", bytes_per_second=100_000)
    args = (str(settings.data_dir), str(settings.output_root), server.url("long.m4a"), hooks.url())
    async with child(SERVER, *args) as (job_id, other), open_audiograb(settings, serve=True) as ag:
        # The job is the other server's: this one leaves it alone while its lease lives.
        with anyio.fail_after(30):
            # Another process records the delivery: there is no event here to wait on.
            while "job.started" not in await delivered_types(settings.database, job_id):  # noqa: ASYNC110
                await anyio.sleep(0.05)
        async with open_store(settings.database) as store:
            rows = await store.read("SELECT owner, lease_attempt FROM jobs WHERE id = ?", (job_id,))
        stale = Lease(job_id=job_id, owner=rows[0][0], attempt=rows[0][1])
        assert stale.owner != ag._store.identity
        other.kill()
        await other.wait()
        server.slow("/long.m4a", bytes_per_second=None)
        with anyio.fail_after(90):
            done = await ag.wait(job_id)
            await hooks.wait_until(
                lambda got: any(b'"job.completed"' in r.body for r in got), within=60
            )
        log = await job_log(ag, job_id)
        # A completion sent with the dead server's attempt changes nothing.
        async with open_store(settings.database) as store:
            before = await store.events_after(job_id)
            with pytest.raises(LeaseLost):
                await store.append_event(
                    JobCompleted(job_id=job_id, output_path="/x", size_bytes=1, duration=1.0),
                    job=msgspec.structs.replace(done, output_path="/x"),
                    lease=stale,
                )
            assert await store.events_after(job_id) == before
            assert await store.get_job(job_id) == done
    assert done.state is JobState.COMPLETED
    assert sum(isinstance(e, JobCompleted) for e in log) == 1
    assert [e.seq for e in log] == list(range(1, len(log) + 1))  # no gap, no repeat
    assert starts(log, job_id) == 2  # started by the killed server, then by this one
    outputs = [p for p in settings.output_root.iterdir() if p.is_file()]
    assert len(outputs) == 1
    ids = Counter(r.headers["webhook-id"] for r in hooks.received if r.status == 200)
    assert ids
    assert max(ids.values()) == 1  # each message delivered once


BIN = Path(sys.executable).parent


async def cli(data: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run the installed `audiograb` on the data folder; its exit status and output."""
    env = {**os.environ, **(env or {}), "AUDIOGRAB_DATA_DIR": str(data)}
    env["AUDIOGRAB_ALLOW_PRIVATE_NETWORKS"] = "true"
    done = await anyio.run_process([str(BIN / "audiograb"), *args], env=env, check=False)
    return done.returncode, (done.stdout + done.stderr).decode()


async def test_the_cli_beside_a_server_hands_it_jobs_and_requests(
    settings: Settings, server: MediaServer, tmp_path: Path
) -> None:
    data, out = settings.data_dir, tmp_path / "cli-out"
    urls = tmp_path / "urls.txt"
    urls.write_text(f"{server.url('tone.mp3')}\n{server.url('tone.m4a')}\n")
    server.slow("/long.m4a", bytes_per_second=2_000)  # still running when cancelled
    async with open_audiograb(settings, serve=True) as ag:
        # `batch --no-wait`: the server runs them (the CLI has exited).
        status, said = await cli(data, "batch", str(urls), "--no-wait", "-o", f"{out}/")
        assert status == 0, said
        queued = await ag.list()
        assert len(queued) == 2
        # `schedule --at` a few seconds ahead: the server's planner fires it.
        due = moment_in(5)
        status, said = await cli(data, "schedule", server.url("tone.mp3"), "--at", due)
        assert status == 0, said
        with anyio.fail_after(60):
            for job in queued:
                assert (await ag.wait(job.id)).state is JobState.COMPLETED
            async with ag.subscribe() as events:
                async for recorded in events:
                    job = await ag.get(recorded.event.job_id)
                    if job.schedule_id is not None:
                        break
            assert (await ag.wait(job.id)).state is JobState.COMPLETED
        # A running job of the server: `jobs retry` is refused, `jobs cancel` stops it.
        long = await ag.submit(JobRequest(url=server.url("long.m4a")))
        with anyio.fail_after(30):
            await until_downloading(ag, long.id)
        status, said = await cli(data, "jobs", "retry", long.id)
        assert status != 0
        assert "[job_running]" in said
        with anyio.fail_after(60):
            status, said = await cli(data, "jobs", "cancel", long.id)
            assert status == 0, said
        assert (await ag.get(long.id)).state is JobState.CANCELLED
        async with open_store(settings.database) as store:
            log = [recorded.event for recorded in await store.all_events_after(0)]
    for job_id in {e.job_id for e in log}:  # no job ever ran twice
        assert starts(log, job_id) == 1


async def test_an_embedding_program_runs_only_what_it_submitted(
    settings: Settings, server: MediaServer
) -> None:
    # A job another process queued (a `batch --no-wait` for the server, say), not yet run.
    theirs = Job(
        id=new_job_id(), request=JobRequest(url=server.url("tone.m4a")), platform="generic"
    )
    async with open_store(settings.database) as store:
        submitted = JobSubmitted(job_id=theirs.id, request=theirs.request, platform="generic")
        await store.append_event(submitted, job=theirs)
    async with open_audiograb(settings) as ag:  # the README's library snippet
        mine = await ag.submit(JobRequest(url=server.url("tone.mp3")))
        with anyio.fail_after(60):
            assert (await ag.wait(mine.id)).state is JobState.COMPLETED
        left = await ag.get(theirs.id)
        log = await ag._store.events_after(theirs.id)
    assert left.state is JobState.QUEUED
    assert [type(recorded.event) for recorded in log] == [JobSubmitted]
    assert server.requests_for("tone.m4a") == []


async def test_webhooks_of_a_cli_download_are_delivered_by_an_idle_server(
    settings: Settings, server: MediaServer, hooks: WebhookReceiver, tmp_path: Path
) -> None:
    settings = msgspec.structs.replace(settings, webhook_url=hooks.url())
    async with open_audiograb(settings, serve=True) as ag:
        env = {"AUDIOGRAB_WEBHOOK_URL": hooks.url()}
        status, said = await cli(
            settings.data_dir, "download", server.url("tone.mp3"), "-o", f"{tmp_path}/", env=env
        )
        assert status == 0, said
        # The CLI has exited: only the idle server can deliver its job's messages.
        received = await hooks.wait_until(
            lambda got: any(b'"job.completed"' in r.body for r in got), within=30
        )
        # The CLI ran its own job, holding the lease: the server wrote none of its events.
        writers = await ag._store.read("SELECT DISTINCT writer FROM job_events", ())
    assert len(writers) == 1
    assert writers[0][0] != ag._store.identity
    types = {json.loads(r.body)["type"] for r in received}
    assert {"job.started", "job.completed"} <= types


async def test_two_servers_fire_a_schedule_once(settings: Settings, server: MediaServer) -> None:
    clock = ManualClock()
    async with open_audiograb(settings, serve=True, clock=clock) as ag:
        due = dt.datetime.fromtimestamp(clock.now() + 60, dt.UTC).isoformat()
        schedule = await ag.schedules.create(JobRequest(url=server.url("tone.mp3")), at=due)
    async with (
        open_audiograb(settings, serve=True, clock=clock) as first,
        open_audiograb(settings, serve=True, clock=clock) as second,
    ):
        clock.advance(60)  # both planners are due at once
        with anyio.fail_after(60):
            async with first.subscribe() as events:
                async for recorded in events:
                    if isinstance(recorded.event, JobCompleted):
                        break
        assert (await second.schedules.get(schedule.id)).runs == 1
        assert await first.count() == 1
