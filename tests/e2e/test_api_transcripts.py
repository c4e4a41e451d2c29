"""Transcription over HTTP: from a URL, from a finished job, from an upload; reading it back."""

import os
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import msgspec
import pytest

from audiograb.config import Settings
from tests import speech
from tests.e2e.api_support import API_KEY, RunningApi, read_frames, running_api
from tests.mediaserver import MediaServer, media_server
from tests.wer import word_error_rate

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture(scope="module")
def speech_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("speech")
    speech.join_clips(root / "once.wav", speech.librivox_clips())
    return root


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[RunningApi]:
    keyed = msgspec.structs.replace(settings, api_keys=(API_KEY,), max_upload_bytes=4_000_000)
    async with running_api(keyed) as running:
        yield running


async def finished(http: httpx.AsyncClient, job: dict[str, object]) -> dict[str, object]:
    """Follow the job's SSE stream to its end; return the job as it ended."""
    with anyio.fail_after(120):
        async with http.stream("GET", f"/api/jobs/{job['id']}/events") as response:
            async for _ in read_frames(response):
                pass
    ended: dict[str, object] = (await http.get(f"/api/jobs/{job['id']}")).json()
    return ended


async def test_a_url_is_transcribed_and_read_in_every_format(
    api: RunningApi, speech_root: Path
) -> None:
    reference = speech.reference_text(speech.librivox_clips())
    with media_server(speech_root) as server:
        async with api.client() as http:
            response = await http.post(
                "/api/transcriptions", json={"url": server.url("once.wav"), "language": "en"}
            )
            assert response.status_code == 201, response.text
            assert response.json()["request"]["transcription"]["language"] == "en"
            job = await finished(http, response.json())
            assert job["state"] == "completed", job
            text = await http.get(f"/api/jobs/{job['id']}/transcript")
            srt = await http.get(f"/api/jobs/{job['id']}/transcript", params={"format": "srt"})
            data = await http.get(f"/api/jobs/{job['id']}/transcript", params={"format": "json"})
    assert text.headers["content-type"].startswith("text/plain")
    assert word_error_rate(reference, text.text) < 0.15
    assert "-->" in srt.text
    assert data.json()["segments"][0]["words"]
    # The site did not say how long the media is; the transcript did.
    assert data.json()["duration"] == job["media"]["duration"] > 28
    assert data.json()["model"] == "tiny.en"


async def test_an_upload_and_a_finished_job_can_be_transcribed(
    api: RunningApi, speech_root: Path, server: MediaServer
) -> None:
    async with api.client() as http:
        with (speech_root / "once.wav").open("rb") as audio:
            response = await http.post(
                "/api/transcriptions",
                files={"file": ("talk.wav", audio, "audio/wav")},
                data={"language": "en", "beam_size": "2"},
            )
        assert response.status_code == 201, response.text
        upload = await finished(http, response.json())
        assert upload["state"] == "completed", upload
        assert upload["media"]["title"] == "talk"
        served = await http.get(str(upload["file_url"]))
        assert served.headers["content-type"] == "application/json"
        assert 'filename="talk.json"' in served.headers["content-disposition"]
        assert served.json()["segments"]

        download = await http.post("/api/downloads", json={"url": server.url("tone.m4a")})
        done = await finished(http, download.json())
        again = await http.post("/api/transcriptions", json={"job_id": done["id"]})
        assert again.status_code == 201, again.text
        assert (await finished(http, again.json()))["state"] == "completed"


async def test_bad_transcription_requests_are_clear_4xx(
    api: RunningApi, speech_root: Path, tmp_path: Path
) -> None:
    big = tmp_path / "big.wav"
    big.write_bytes(b"\0" * 5_000_000)
    async with api.client() as http:
        cases = [
            await http.post("/api/transcriptions", json={}),
            await http.post("/api/transcriptions", json={"url": "https://e.x/a", "job_id": "b"}),
            await http.post("/api/transcriptions", json={"job_id": "nope"}),
            await http.post("/api/transcriptions", json={"url": "x", "model": "../../etc"}),
            await http.post("/api/transcriptions", content=b"{not json"),
            await http.post("/api/transcriptions", files={"file": ("big.wav", big.read_bytes())}),
            await http.get("/api/jobs/nope/transcript"),
        ]
    codes = [(r.status_code, r.json()["error"]["code"]) for r in cases]
    assert codes == [
        (400, "invalid_request"),
        (400, "invalid_request"),
        (404, "job_not_found"),
        (422, "validation_failed"),
        (400, "invalid_request"),
        (413, "too_large"),
        (404, "job_not_found"),
    ]


async def test_an_upload_announced_too_large_is_refused_before_it_is_sent(
    api: RunningApi,
) -> None:
    """413 at once from the Content-Length: the server does not take in gigabytes first."""
    host, port = api.base_url.removeprefix("http://").split(":")
    head = (
        "POST /api/transcriptions HTTP/1.1\r\n"
        f"Host: {host}\r\nX-API-Key: {API_KEY}\r\n"
        "Content-Type: multipart/form-data; boundary=cut\r\n"
        "Content-Length: 10000000000\r\n\r\n"
        '--cut\r\nContent-Disposition: form-data; name="file"; filename="huge.wav"\r\n\r\n'
    )
    with anyio.fail_after(30):  # the rest of the 10 GB never comes
        async with await anyio.connect_tcp(host, int(port)) as stream:
            await stream.send(head.encode() + b"\0" * 65_536)
            answer = b""
            while b"\r\n\r\n" not in answer:
                answer += await stream.receive()
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert await api.ag.list() == []


async def test_random_bytes_are_not_media_by_upload_or_by_url(
    api: RunningApi, tmp_path: Path
) -> None:
    noise = os.urandom(200_000)
    (tmp_path / "noise.mp3").write_bytes(noise)
    with media_server(tmp_path) as site:
        async with api.client() as http:
            uploaded = await http.post(
                "/api/transcriptions", files={"file": ("noise.mp3", noise, "audio/mpeg")}
            )
            by_url = await http.post("/api/transcriptions", json={"url": site.url("noise.mp3")})
            downloaded = await http.post("/api/downloads", json={"url": site.url("noise.mp3")})
            ended = [await finished(http, r.json()) for r in (uploaded, by_url, downloaded)]
    assert [job["error"]["code"] for job in ended] == ["not_media"] * 3, ended  # type: ignore[index]
