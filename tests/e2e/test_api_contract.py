"""The schema and the answers agree, and every error speaks one vocabulary (docs/api.md):
each documented status is in the OpenAPI document, one cause gets one status and code, and
what a client did wrong is said in words it can act on."""

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from audiograb.config import Settings
from tests.e2e.api_support import running_api

pytestmark = pytest.mark.anyio


async def test_the_schema_and_the_answers_agree(settings: Settings) -> None:
    urls = [f"https://example.com/{n}.mp3" for n in range(1_001)]
    async with running_api(settings) as api, api.client() as http:
        schema = (await http.get("/api/schema/openapi.json")).json()
        answers = {
            "batch of 1001": await http.post("/api/batches", json={"urls": urls}),
            "upload of 1001": await http.post(
                "/api/batches/upload", files={"file": ("u.txt", "\n".join(urls).encode())}
            ),
            "oversized body": await http.post(
                "/api/downloads", content=b"{" + b" " * (settings.max_request_bytes + 1) + b"}"
            ),
            "empty JSON body": await http.post(
                "/api/downloads", content=b"", headers={"content-type": "application/json"}
            ),
            "file without a name": await http.post(
                "/api/transcriptions", files={"file": ("", b"\xff\xfe not audio")}
            ),
        }
        heads = [
            (path, (await http.head(path)).status_code)
            for path in ("/api/health", "/api/jobs", "/api/queue", "/api/platforms", "/api/events")
        ]
        socket_url = api.base_url.replace("http", "ws") + "/api/jobs/nope/annotations/ws"
        with pytest.raises(InvalidStatus) as unknown_job:
            async with connect(socket_url):
                pass
    paths = schema["paths"]
    assert "204" in paths["/api/jobs/{job_id}/events"]["get"]["responses"]
    file_types = paths["/api/jobs/{job_id}/file"]["get"]["responses"]["200"]["content"]
    assert "application/json" in file_types
    # Litestar reads a part without a file name as text: say what the client must change.
    assert "file name" in answers["file without a name"].json()["error"]["message"]
    codes = {cause: (r.status_code, r.json()["error"]["code"]) for cause, r in answers.items()}
    assert codes == {
        "batch of 1001": (413, "too_large"),
        "upload of 1001": (413, "too_large"),
        "oversized body": (413, "too_large"),
        "empty JSON body": (400, "invalid_request"),
        "file without a name": (400, "invalid_request"),
    }
    assert "empty" in answers["empty JSON body"].json()["error"]["message"]
    assert "'data'" not in answers["empty JSON body"].json()["error"]["message"]
    assert heads == [(path, 200) for path, _ in heads]
    assert unknown_job.value.response.status_code == 404
