"""Short job ids (issue 18, item 8): file names carry 8 characters of a job's id, so any unique
start of 6 or more characters names the job, in the CLI and on the API's paths; a start that
several jobs share is said to be ambiguous."""

import subprocess
from pathlib import Path

import anyio
import pytest

from audiograb.config import Settings
from audiograb.domain import Job, JobRequest, JobState
from audiograb.store import open_store
from tests.e2e.api_support import running_api
from tests.e2e.test_cli import run_cli

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

TWINS = ("757fe63f" + "0" * 24, "757fe6aa" + "1" * 24)


async def _store_twins(database: Path) -> None:
    async with open_store(database) as store:
        for job_id in TWINS:
            await store.insert_job(
                Job(
                    id=job_id,
                    request=JobRequest(url=f"https://example.com/{job_id[:8]}.mp3"),
                    platform="generic",
                    state=JobState.FAILED,  # nothing to resume when the API starts
                )
            )


async def _cli(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    return await anyio.to_thread.run_sync(lambda: run_cli(*args, data=data))


async def test_a_unique_start_names_a_job_in_the_cli(settings: Settings) -> None:
    await _store_twins(settings.database_path)
    shown = await _cli("jobs", "show", "757fe63f", data=settings.data_dir)
    ambiguous = await _cli("jobs", "show", "757fe6", data=settings.data_dir)
    too_short = await _cli("jobs", "show", "757fe", data=settings.data_dir)
    assert shown.returncode == 0, shown.stderr
    assert f"id: {TWINS[0]}" in shown.stdout
    assert ambiguous.returncode == 1
    assert "ambiguous" in ambiguous.stderr
    assert TWINS[0][:8] in ambiguous.stderr
    assert TWINS[1][:8] in ambiguous.stderr
    assert too_short.stderr.strip().endswith("[job_not_found]")


async def test_a_unique_start_names_a_job_on_the_api(settings: Settings) -> None:
    await _store_twins(settings.database_path)
    async with running_api(settings) as api, api.client() as http:
        found = await http.get("/api/jobs/757fe6aa")
        ambiguous = await http.get("/api/jobs/757fe6")
        retried = await http.post("/api/jobs/757fe6/retry")
        cancelled = await http.delete("/api/jobs/757fe63f")
        notes = await http.get("/api/jobs/757fe6aa/annotations")
    assert found.status_code == 200, found.text
    assert found.json()["id"] == TWINS[1]
    assert ambiguous.status_code == 400
    assert ambiguous.json()["error"]["code"] == "invalid_request"
    assert retried.status_code == 400
    assert cancelled.status_code == 409  # found, and already ended: not 404
    assert cancelled.json()["error"]["message"] == f"job {TWINS[0]} is already failed"
    assert notes.status_code == 200, notes.text
