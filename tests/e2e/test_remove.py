"""Removing an ended job: `POST /api/jobs/{id}/remove` over a real pipeline and real files."""

from pathlib import Path

import anyio
import httpx
import pytest

from audiograb.domain import JobRequest
from audiograb.pipeline import Audiograb
from tests.mediaserver import MediaServer

pytestmark = pytest.mark.anyio


async def test_remove_forgets_the_job_and_its_file(
    ag: Audiograb, client: httpx.AsyncClient, server: MediaServer
) -> None:
    job = await ag.submit(JobRequest(url=server.url("tone.mp3")))
    done = await ag.wait(job.id)
    assert done.output_path is not None
    output = anyio.Path(done.output_path)
    assert await output.is_file()
    answer = await client.post(f"/api/jobs/{job.id}/remove")
    assert answer.status_code == 204
    assert not await output.exists()
    assert (await client.get(f"/api/jobs/{job.id}")).status_code == 404
    assert (await client.post(f"/api/jobs/{job.id}/remove")).status_code == 404


async def test_a_file_written_elsewhere_stays(
    ag: Audiograb, client: httpx.AsyncClient, server: MediaServer, tmp_path: Path
) -> None:
    mine = tmp_path / "mine" / "talk.m4a"
    mine.parent.mkdir()
    job = await ag.submit(JobRequest(url=server.url("tone.m4a")), dest=mine)
    await ag.wait(job.id)
    assert (await client.post(f"/api/jobs/{job.id}/remove")).status_code == 204
    assert mine.is_file()


async def test_an_unfinished_job_is_not_removed(
    ag: Audiograb, client: httpx.AsyncClient, server: MediaServer
) -> None:
    server.slow("long.m4a", bytes_per_second=4096)
    job = await ag.submit(JobRequest(url=server.url("long.m4a")))
    refused = await client.post(f"/api/jobs/{job.id}/remove")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "invalid_state"
    await ag.cancel(job.id)
    assert (await client.post(f"/api/jobs/{job.id}/remove")).status_code == 204
