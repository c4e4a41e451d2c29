"""The REST API over a real uvicorn server on loopback: downloads, SSE, files, auth, limits."""

import json
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import msgspec
import pytest

from audiograb.config import Settings
from audiograb.domain import decode_event
from tests.e2e.api_support import (
    API_KEY,
    RunningApi,
    SseFrame,
    frames_of,
    frames_until_progress,
    read_frames,
    running_api,
)
from tests.mediaserver import MediaServer, media_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def keyed(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, api_keys=(API_KEY,))


@pytest.fixture
async def api(keyed: Settings) -> AsyncIterator[RunningApi]:
    async with running_api(keyed) as running:
        yield running


async def submit(http: httpx.AsyncClient, url: str, **body: str) -> dict[str, object]:
    response = await http.post("/api/downloads", json={"url": url, **body})
    assert response.status_code == 201, response.text
    job: dict[str, object] = response.json()
    assert response.headers["location"] == f"/api/jobs/{job['id']}"
    return job


@pytest.mark.slow
async def test_download_followed_over_sse_then_fetched_whole_and_by_range(
    api: RunningApi, server: MediaServer
) -> None:
    async with api.client() as http:
        job = await submit(http, server.url("tone.mp3"), format="m4a")
        frames = await frames_of(http, f"/api/jobs/{job['id']}/events")
        ids = [frame.id for frame in frames]
        assert ids == list(range(1, len(frames) + 1))
        events = [decode_event(frame.data) for frame in frames]
        assert [frame.event for frame in frames] == [type(e).__struct_config__.tag for e in events]
        assert frames[0].event == "job.submitted"
        assert frames[-1].event == "job.completed"
        states = [json.loads(f.data)["state"] for f in frames if f.event == "job.state"]
        assert states == ["downloading", "converting"]

        shown = (await http.get(f"/api/jobs/{job['id']}")).json()
        assert shown["state"] == "completed"
        assert "output_path" not in shown  # server paths never leave the server
        stored = await api.ag.get(str(job["id"]))
        on_disk = await anyio.Path(stored.output_path or "").read_bytes()
        completed = json.loads(frames[-1].data)  # the event names the file, not its folder
        assert completed["output_path"] == Path(stored.output_path or "").name

        whole = await http.get(shown["file_url"])
        assert whole.status_code == 200
        assert whole.headers["content-type"] == "audio/mp4"
        assert whole.headers["accept-ranges"] == "bytes"
        assert whole.headers["content-disposition"].startswith("attachment; filename=")
        assert "filename*=UTF-8''" in whole.headers["content-disposition"]
        assert whole.content == on_disk
        described = (
            "content-length",
            "content-type",
            "etag",
            "accept-ranges",
            "content-disposition",
        )
        for path in (shown["file_url"], f"/api/download/{job['id']}/file"):
            headed = await http.head(path)
            assert headed.status_code == 200, path
            assert headed.content == b""
            assert [headed.headers[name] for name in described] == [
                whole.headers[name] for name in described
            ]
        headed_part = await http.head(shown["file_url"], headers={"Range": "bytes=100-1099"})
        assert headed_part.status_code == 206
        assert headed_part.headers["content-length"] == "1000"
        assert headed_part.headers["content-range"] == f"bytes 100-1099/{len(on_disk)}"

        part = await http.get(shown["file_url"], headers={"Range": "bytes=100-1099"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 100-1099/{len(on_disk)}"
        assert part.content == on_disk[100:1100]
        tail = await http.get(shown["file_url"], headers={"Range": "bytes=-500"})
        assert tail.status_code == 206
        assert tail.content == on_disk[-500:]
        past = await http.get(shown["file_url"], headers={"Range": f"bytes={len(on_disk)}-"})
        assert past.status_code == 416
        assert past.json()["error"]["code"] == "range_not_satisfiable"

        legacy = await http.get(f"/api/download/{job['id']}/file")
        assert legacy.content == on_disk
        # EventSource reconnecting after the end gets 204, which stops it for good.
        done = await http.get(
            f"/api/jobs/{job['id']}/events", headers={"Last-Event-ID": str(ids[-1])}
        )
        assert done.status_code == 204


@pytest.mark.slow
async def test_last_event_id_resumes_mid_job_with_no_gap_and_no_duplicate(
    api: RunningApi, server: MediaServer
) -> None:
    server.slow("long.m4a", bytes_per_second=150_000)
    async with api.client() as http:
        job = await submit(http, server.url("long.m4a"), format="m4a")
        path = f"/api/jobs/{job['id']}/events"
        first = await frames_until_progress(http, path, 3)  # hang up mid-download
        last_id = first[-1].id
        assert (await api.ag.get(str(job["id"]))).state == "downloading"
        rest = await frames_of(http, path, headers={"Last-Event-ID": str(last_id)})
        assert rest[-1].event == "job.completed"
        everything = await frames_of(http, path)
        assert [(f.id, f.data) for f in first + rest] == [(f.id, f.data) for f in everything]

        # The all-jobs stream resumes by global log id the same way.
        async with http.stream("GET", "/api/events", headers={"Last-Event-ID": "2"}) as response:
            seen: list[SseFrame] = []
            with anyio.fail_after(10):
                async for frame in read_frames(response):
                    if frame.comment is None:
                        seen.append(frame)
                    if frame.event == "job.completed":
                        break
        assert [f.id for f in seen] == list(range(3, len(everything) + 1))


@pytest.mark.slow
async def test_cancel_retry_and_the_original_routes(api: RunningApi, server: MediaServer) -> None:
    server.slow("long.m4a", bytes_per_second=50_000)
    async with api.client() as http:
        made = await http.post("/api/download", json={"url": server.url("long.m4a")})
        assert made.status_code == 200
        legacy = made.json()
        assert legacy["status"] == "pending"
        job_id = legacy["job_id"]
        assert (await http.get(f"/api/download/{job_id}")).json()["job_id"] == job_id
        assert (await http.get(f"/api/jobs/{job_id}/file")).status_code == 409
        cancelled = await http.delete(f"/api/jobs/{job_id}")
        assert cancelled.status_code == 200
        assert cancelled.json()["state"] == "cancelled"
        again = await http.delete(f"/api/download/{job_id}")
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "invalid_state"
        page = (await http.get("/api/jobs", params={"state": "cancelled"})).json()
        assert [j["id"] for j in page["jobs"]] == [job_id]
        retried = await http.post(f"/api/jobs/{job_id}/retry")
        assert retried.status_code == 200
        assert retried.json()["state"] == "queued"
        assert retried.json()["attempts"] == 1


@pytest.mark.slow
async def test_a_retried_job_can_be_cancelled_again(api: RunningApi, server: MediaServer) -> None:
    server.slow("long.m4a", bytes_per_second=50_000)
    async with api.client() as http:
        job = await submit(http, server.url("long.m4a"))
        assert (await http.delete(f"/api/jobs/{job['id']}")).json()["state"] == "cancelled"
        assert (await http.post(f"/api/jobs/{job['id']}/retry")).status_code == 200
        assert (await http.delete(f"/api/download/{job['id']}")).json()["status"] == "cancelled"


async def test_keepalive_comments_on_an_idle_stream(keyed: Settings) -> None:
    async with running_api(keyed, keepalive=0.1) as api, api.client() as http:
        with anyio.fail_after(10):
            async with http.stream("GET", "/api/events", params={"token": API_KEY}) as response:
                assert response.status_code == 200
                async for frame in read_frames(response):
                    if frame.comment == "keepalive":
                        break


async def test_shutdown_ends_open_event_streams(keyed: Settings) -> None:
    async with running_api(keyed) as api, api.client() as http:
        with anyio.fail_after(10):
            async with http.stream("GET", "/api/events") as response:
                assert response.status_code == 200
                api.server.should_exit = True
                frames = [frame async for frame in read_frames(response)]
        assert frames == []  # ended cleanly, without waiting for the graceful-shutdown timeout


PROTECTED = [
    ("GET", "/api/ready"),
    ("GET", "/api/platforms"),
    ("GET", "/api/models"),
    ("POST", "/api/downloads"),
    ("GET", "/api/jobs"),
    ("GET", "/api/jobs/0123456789abcdef0123456789abcdef"),
    ("DELETE", "/api/jobs/0123456789abcdef0123456789abcdef"),
    ("POST", "/api/jobs/0123456789abcdef0123456789abcdef/retry"),
    ("GET", "/api/jobs/0123456789abcdef0123456789abcdef/file"),
    ("GET", "/api/jobs/0123456789abcdef0123456789abcdef/events"),
    ("GET", "/api/events"),
    ("POST", "/api/download"),
    ("GET", "/api/download/0123456789abcdef0123456789abcdef"),
    ("GET", "/api/download/0123456789abcdef0123456789abcdef/file"),
    ("DELETE", "/api/download/0123456789abcdef0123456789abcdef"),
    ("GET", "/api/schema/openapi.json"),
]


async def test_models_lists_what_is_installed_and_its_languages(api: RunningApi) -> None:
    async with api.client() as http:
        response = await http.get("/api/models")
    assert response.status_code == 200, response.text
    listed = response.json()
    models = {model["name"]: model for model in listed["models"]}
    assert models["tiny.en"] == {
        "name": "tiny.en",
        "multilingual": False,
        "languages": ["en"],
        "source": "bundled",
    }
    assert models["base"]["multilingual"]  # the `multilingual` extra, installed by make setup
    assert models["base"]["source"] == "packaged"
    assert {"zh", "es", "de", "ja"} <= set(models["base"]["languages"])
    assert listed["default_model"] == "tiny.en"
    assert listed["languages"][0] == "en"
    assert set(listed["languages"]) == {code for m in listed["models"] for code in m["languages"]}


async def test_every_route_but_health_needs_a_key(api: RunningApi) -> None:
    async with api.client(key=False) as http:
        health = await http.get("/api/health")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        for method, path in PROTECTED:
            for headers in ({}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer wrong"}):
                response = await http.request(method, path, headers=headers, json={"url": "x"})
                assert response.status_code == 401, (method, path, headers)
                assert response.json()["error"]["code"] == "unauthorized"
                assert response.headers["www-authenticate"].startswith("Bearer")
        # The right key, either way; `?token=` only where headers are hard (SSE).
        bearer = {"Authorization": f"Bearer {API_KEY}"}
        assert (await http.get("/api/jobs", headers=bearer)).status_code == 200
        assert (await http.get("/api/jobs", headers={"X-API-Key": API_KEY})).status_code == 200
        assert (await http.get("/api/jobs", params={"token": API_KEY})).status_code == 401
        unknown_job = "/api/jobs/0123456789abcdef0123456789abcdef/events"
        assert (await http.get(unknown_job, params={"token": API_KEY})).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a.mp3",
        "http://10.0.0.1/a.mp3",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/a.mp3",
        "http://localhost/a.mp3",
        "http://0.0.0.0/a.mp3",
        "http://[::ffff:127.0.0.1]/a.mp3",
    ],
)
async def test_ssrf_targets_are_refused(settings: Settings, url: str) -> None:
    closed = msgspec.structs.replace(settings, allow_private_networks=False)
    async with running_api(closed) as api, api.client() as http:
        response = await http.post("/api/downloads", json={"url": url})
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden_address"
        assert (await http.get("/api/jobs")).json()["total"] == 0


async def _failure_of(api: RunningApi, url: str) -> str:
    async with api.client() as http:
        job = await submit(http, url)
        frames = await frames_of(http, f"/api/jobs/{job['id']}/events")
    assert frames[-1].event == "job.failed", frames[-1]
    code: str = json.loads(frames[-1].data)["error"]["code"]
    return code


@pytest.mark.slow
async def test_redirect_to_a_private_address_fails_the_job(
    settings: Settings, server: MediaServer
) -> None:
    narrow = msgspec.structs.replace(
        settings, allow_private_networks=False, allow_networks=("127.0.0.1/32",)
    )
    port = server.base_url.rsplit(":", 1)[1]
    server.redirect("/hop.m4a", f"http://127.0.0.2:{port}/tone.m4a")
    async with running_api(narrow) as api:
        assert await _failure_of(api, server.url("hop.m4a")) == "forbidden_address"


@pytest.mark.slow
async def test_hls_segments_on_a_private_address_fail_the_job(
    settings: Settings, server: MediaServer, media_root: Path, tmp_path: Path
) -> None:
    narrow = msgspec.structs.replace(
        settings, allow_private_networks=False, allow_networks=("127.0.0.1/32",)
    )
    port = server.base_url.rsplit(":", 1)[1]
    playlist = (media_root / "hls-ts" / "index.m3u8").read_text()
    rewritten = "\n".join(
        f"http://127.0.0.2:{port}/hls-ts/{line}" if line and not line.startswith("#") else line
        for line in playlist.splitlines()
    )
    (tmp_path / "ssrf.m3u8").write_text(rewritten + "\n")
    with media_server(tmp_path) as playlists:
        async with running_api(narrow) as api:
            assert await _failure_of(api, playlists.url("ssrf.m3u8")) == "forbidden_address"


TRAVERSALS = [
    "/api/jobs/..%2F..%2F..%2Fetc%2Fpasswd/file",
    "/api/jobs/%2e%2e/file",
    "/api/jobs/..%5C..%5Cwindows/file",
    "/api/download/..%2Fsecret/file",
    "/api/jobs/abc/file/../../../../etc/passwd",
    "/api/jobs/%00/file",
]


async def test_path_traversal_on_the_file_route_is_refused(api: RunningApi) -> None:
    async with api.client() as http:
        for path in TRAVERSALS:
            response = await http.get(path)
            assert response.status_code == 404, path
            assert response.json()["error"]["code"] in ("job_not_found", "route_not_found")
            assert b"root:" not in response.content


async def test_bad_input_gets_a_clear_4xx(settings: Settings) -> None:
    small = msgspec.structs.replace(settings, api_keys=(API_KEY,), max_request_bytes=2048)
    async with running_api(small) as api, api.client() as http:
        cases = [
            (b'{"url": "http://example.com/a.mp3"', 400, "invalid_request"),
            (b"not json at all", 400, "invalid_request"),
            (b'{"url": "http://example.com/a.mp3", "format": "exe"}', 422, "validation_failed"),
            (b'{"url": "http://example.com/a.mp3", "quality": 9}', 422, "validation_failed"),
            (b'{"url": "http://e.com/a", "output_path": "/etc/x"}', 422, "validation_failed"),
            (b'{"url": "http://e.com/a", "ytdlp": {"exec": "id"}}', 422, "validation_failed"),
            (b'["http://example.com/a.mp3"]', 422, "validation_failed"),
            (b'{"format": "mp3"}', 422, "validation_failed"),
            (b'{"url": "file:///etc/passwd"}', 422, "invalid_url"),
            (b'{"url": "' + b"a" * 4000 + b'"}', 413, "too_large"),
        ]
        for body, status, code in cases:
            response = await http.post(
                "/api/downloads", content=body, headers={"Content-Type": "application/json"}
            )
            assert response.status_code == status, (body[:60], response.text)
            error = response.json()["error"]
            assert error["code"] == code
            assert error["message"]
        listing = await http.get("/api/jobs", params={"state": "exploded"})
        assert listing.status_code == 422
        assert (await http.get("/api/jobs", params={"limit": 0})).status_code == 422
        assert (await http.get("/api/nowhere")).json()["error"]["code"] == "route_not_found"
        assert (await http.put("/api/jobs")).status_code == 405
        bad_resume = await http.get("/api/events", headers={"Last-Event-ID": "x"})
        assert bad_resume.status_code == 400


async def test_rate_limit_answers_429_with_retry_after(settings: Settings) -> None:
    limited = msgspec.structs.replace(settings, api_keys=(API_KEY,), rate_limit_per_minute=5)
    async with running_api(limited) as api, api.client() as http:
        statuses = [(await http.get("/api/jobs")).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        refused = await http.get("/api/jobs")
        assert refused.json()["error"]["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1
        assert (await http.get("/api/health")).status_code == 200  # probes are never limited
        # Guessing keys is limited per address too.
        async with api.client(key=False) as stranger:
            guesses = [(await stranger.get("/api/jobs")).status_code for _ in range(6)]
        assert guesses == [401] * 5 + [429]
