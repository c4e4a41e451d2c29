"""SIGKILL with waiting, running and scheduled jobs: each finishes exactly once, none early."""

import datetime as dt
from collections import Counter

import anyio
import pytest

from audiograb.config import Settings
from audiograb.domain import JobCompleted, JobState, JobSubmitted
from audiograb.pipeline import open_audiograb
from audiograb.store import open_store
from tests.e2e.children import first_line_then_kill
from tests.mediaserver import MediaServer

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.usefixtures("database")]

#: Seconds after the child's start that its schedule is due: after the kill and the restart.
SCHEDULE_DELAY = 6.0

# Runs in a child process: a running job, two waiting ones and a schedule; then wait for death.
CHILD = """
import sys, time, datetime as dt, anyio
from audiograb.config import load_settings
from audiograb.domain import JobRequest, JobState
from audiograb.pipeline import open_audiograb

async def main() -> None:
    settings = load_settings(data_dir=sys.argv[1], output_dir=sys.argv[2], max_concurrent_jobs=1,
                             allow_private_networks=True, progress_interval=0.05)
    async with open_audiograb(settings, serve=True) as ag:
        running = await ag.submit(JobRequest(url=sys.argv[3]))
        waiting = [await ag.submit(JobRequest(url=sys.argv[4], priority=p)) for p in (3, 7)]
        zone = dt.timezone(dt.timedelta(hours=-7))
        due = dt.datetime.fromtimestamp(time.time() + float(sys.argv[5]), zone).isoformat()
        schedule = await ag.schedules.create(JobRequest(url=sys.argv[4]), at=due)
        async with ag.subscribe(running.id) as events:
            async for recorded in events:
                if getattr(recorded.event, "state", None) is JobState.DOWNLOADING:
                    break
        print(running.id, *(job.id for job in waiting), schedule.id, flush=True)
        await anyio.sleep_forever()

anyio.run(main)
"""


async def test_after_a_kill_every_job_finishes_once_and_the_schedule_waits(
    settings: Settings, server: MediaServer
) -> None:
    server.slow("/long.m4a", bytes_per_second=40_000)
    line = await first_line_then_kill(
        CHILD,
        str(settings.data_dir),
        str(settings.output_root),
        server.url("long.m4a"),
        server.url("tone.mp3"),
        str(SCHEDULE_DELAY),
        within=30,
    )
    running, low, high, schedule_id = line.split()

    server.slow("/long.m4a", bytes_per_second=None)
    async with open_audiograb(settings, serve=True) as ag:
        schedule = await ag.schedules.get(schedule_id)
        assert schedule.run_at is not None
        assert schedule.runs == 0
        with anyio.fail_after(60):
            for job_id in (running, low, high):
                assert (await ag.wait(job_id)).state is JobState.COMPLETED
            async with ag.subscribe() as events:
                async for recorded in events:
                    if isinstance(recorded.event, JobSubmitted) and recorded.event.job_id not in (
                        running,
                        low,
                        high,
                    ):
                        scheduled = recorded.event.job_id
                        break
            done = await ag.wait(scheduled)
        async with open_store(settings.database) as store:
            log = [recorded.event for recorded in await store.all_events_after(0)]
        fired = await ag.schedules.get(schedule_id)
    assert done.state is JobState.COMPLETED
    assert done.schedule_id == schedule_id
    assert done.created_at >= schedule.run_at  # not a moment early
    submitted_at = next(e.at for e in log if isinstance(e, JobSubmitted) and e.job_id == scheduled)
    assert submitted_at >= schedule.run_at
    assert dt.datetime.fromtimestamp(schedule.run_at, dt.UTC).tzinfo is dt.UTC
    assert fired.runs == 1
    completed = Counter(e.job_id for e in log if isinstance(e, JobCompleted))
    assert completed == {running: 1, low: 1, high: 1, scheduled: 1}
    starts = [e.job_id for e in log if getattr(e, "previous", None) is JobState.QUEUED]
    after_restart = starts[starts.index(running) + 1 :]
    assert after_restart[:3] == [high, running, low]  # restored by priority, then arrival
