"""A process killed mid-download: the next start finishes the job, exactly once."""

from pathlib import Path

import anyio
import pytest

from audiograb.config import Settings
from audiograb.domain import JobCompleted, JobState
from audiograb.pipeline import open_audiograb
from audiograb.store import open_store
from tests.e2e.children import first_line_then_kill
from tests.mediaserver import MediaServer

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.usefixtures("database")]


# Runs in a child process: submit one job, say so once bytes arrive, then wait to be killed.
CHILD = """
import sys, anyio
from audiograb.config import load_settings
from audiograb.domain import DownloadProgressed, JobRequest
from audiograb.pipeline import open_audiograb

async def main() -> None:
    settings = load_settings(data_dir=sys.argv[1], output_dir=sys.argv[2],
                             allow_private_networks=True, progress_interval=0.05)
    async with open_audiograb(settings, serve=True) as ag:
        job = await ag.submit(JobRequest(url=sys.argv[3]))
        async with ag.subscribe(job.id) as events:
            async for recorded in events:
                if isinstance(recorded.event, DownloadProgressed):
                    print(job.id, flush=True)
                    await anyio.sleep_forever()

anyio.run(main)
"""


async def test_killed_download_resumes_and_completes_once(
    settings: Settings, server: MediaServer, tmp_path: Path
) -> None:
    server.slow("/long.m4a", bytes_per_second=40_000)
    job_id = await first_line_then_kill(
        CHILD,
        str(settings.data_dir),
        str(settings.output_root),
        server.url("long.m4a"),
        within=30,
    )

    async with open_store(settings.database) as store:
        interrupted = await store.get_job(job_id)
    assert interrupted is not None
    assert interrupted.state is JobState.DOWNLOADING

    server.slow("/long.m4a", bytes_per_second=None)
    async with open_audiograb(settings, serve=True) as ag:
        with anyio.fail_after(60):
            done = await ag.wait(job_id)
        async with ag.subscribe(job_id) as events:
            log = [recorded.event async for recorded in events]
    assert done.state is JobState.COMPLETED, done.error
    assert sum(isinstance(event, JobCompleted) for event in log) == 1
    outputs = list(settings.output_root.iterdir())
    assert [path.name for path in outputs] == [Path(done.output_path or "").name]
    assert not (settings.work_root / job_id).exists()
