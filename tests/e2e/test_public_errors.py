"""Error messages that leave the process name files by their public name, never by a path on
the server: a failed upload's `job.failed` event, webhook and job all say `notes.txt`."""

import json

import anyio
import msgspec
import pytest

from audiograb.config import Settings
from tests.e2e.api_support import read_frames, running_api
from tests.webhookreceiver import WebhookReceiver

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_a_failed_upload_names_no_server_path(
    settings: Settings, hooks: WebhookReceiver
) -> None:
    hooked = msgspec.structs.replace(settings, webhook_url=hooks.url())
    async with running_api(hooked) as api, api.client() as http:
        response = await http.post(
            "/api/transcriptions", files={"file": ("notes.txt", b"hello, not audio\n")}
        )
        assert response.status_code == 201, response.text
        job_id = response.json()["id"]
        with anyio.fail_after(60):
            async with http.stream("GET", f"/api/jobs/{job_id}/events") as stream:
                frames = [frame async for frame in read_frames(stream)]
        job = (await http.get(f"/api/jobs/{job_id}")).json()
        received = await hooks.wait_until(
            lambda got: any(b'"job.failed"' in r.body for r in got), within=60
        )
    failed = [json.loads(f.data) for f in frames if f.event == "job.failed"]
    hooked_failure = next(json.loads(r.body) for r in received if b'"job.failed"' in r.body)
    messages = [
        failed[0]["error"]["message"],
        job["error"]["message"],
        hooked_failure["data"]["error"]["message"],
    ]
    for message in messages:
        assert str(settings.data_dir) not in message
        assert "/work/" not in message
        assert "upload.txt" not in message  # the name the server gave the file
        assert "notes.txt" in message, message
