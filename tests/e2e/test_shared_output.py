"""Finished files in a real S3 server (SeaweedFS): served by any node, deleted with the job."""

import secrets
from collections.abc import AsyncIterator

import anyio
import msgspec
import obstore
import pytest

from audiograb.config import Settings
from tests.e2e.api_support import API_KEY, RunningApi, running_api
from tests.mediaserver import MediaServer
from tests.s3server import S3Server

pytestmark = pytest.mark.anyio


@pytest.fixture
def prefix() -> str:
    return "e2e-" + secrets.token_hex(4)


@pytest.fixture
async def api(settings: Settings, s3: S3Server, prefix: str) -> AsyncIterator[RunningApi]:
    shared = msgspec.structs.replace(
        settings, api_keys=(API_KEY,), storage_url=s3.url(prefix), **s3.credentials
    )
    async with running_api(shared) as running:
        yield running


def _keys(s3: S3Server, prefix: str) -> list[str]:
    return [meta["path"] for batch in obstore.list(s3.store(prefix)) for meta in batch]


async def test_a_file_only_in_the_store_is_served_with_ranges_transcribed_and_purged(
    api: RunningApi, server: MediaServer, s3: S3Server, prefix: str
) -> None:
    async with api.client() as http:
        made = await http.post("/api/downloads", json={"url": server.url("tone.mp3")})
        job_id = made.json()["id"]
        with anyio.fail_after(60):
            done = await api.ag.wait(job_id)
        assert done.state == "completed", done.error
        local = anyio.Path(done.output_path or "")
        body = await local.read_bytes()
        assert _keys(s3, prefix) == [f"{job_id}{local.suffix}"]
        await local.unlink()  # as on another node: only the object store has it now

        whole = await http.get(f"/api/jobs/{job_id}/file")
        assert whole.status_code == 200
        assert whole.content == body
        etag = whole.headers["etag"]
        part = await http.get(f"/api/jobs/{job_id}/file", headers={"Range": "bytes=100-1099"})
        assert part.status_code == 206
        assert part.content == body[100:1100]
        assert part.headers["content-range"] == f"bytes 100-1099/{len(body)}"
        headed = await http.head(f"/api/jobs/{job_id}/file", headers={"Range": "bytes=-10"})
        assert (headed.status_code, headed.headers["etag"]) == (206, etag)
        stale = await http.get(
            f"/api/jobs/{job_id}/file", headers={"Range": "bytes=0-9", "If-Range": '"other"'}
        )
        assert (stale.status_code, stale.content) == (200, body)

        asked = await http.post("/api/transcriptions", json={"job_id": job_id})
        assert asked.status_code in (200, 201, 202), asked.text
        with anyio.fail_after(120):
            transcribed = await api.ag.wait(asked.json()["id"])
        assert transcribed.state == "completed", transcribed.error  # read from the store

        purged = await http.delete(f"/api/jobs/{job_id}", params={"purge": "true"})
        assert purged.status_code == 200, purged.text
        assert purged.json()["id"] == job_id
        assert _keys(s3, prefix) == [f"{transcribed.id}.json"]  # the transcript's own file
        gone = await http.get(f"/api/jobs/{job_id}")
        assert gone.status_code == 404


async def test_purge_refuses_a_job_that_still_runs(api: RunningApi, server: MediaServer) -> None:
    server.slow("/long.m4a", 20_000)
    async with api.client() as http:
        made = await http.post("/api/downloads", json={"url": server.url("long.m4a")})
        job_id = made.json()["id"]
        refused = await http.delete(f"/api/jobs/{job_id}", params={"purge": "true"})
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "invalid_state"
        assert (await http.get(f"/api/jobs/{job_id}")).status_code == 200
