"""The app in process over a real `Audiograb`: the non-streaming routes.

httpx's ASGI transport runs the app in the test's own event loop (Litestar's test clients run
it in another thread's loop, where the pipeline's actors cannot be awaited).
"""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar

from audiograb.api import create_app
from audiograb.config import Settings, load_settings
from audiograb.domain import JobRequest
from audiograb.pipeline import Audiograb, open_audiograb

pytestmark = pytest.mark.anyio

NOWHERE = "http://127.0.0.1:9/nothing.mp3"  # the discard port: refused at once


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        environ={},
        data_dir=tmp_path / "data",
        output_dir=tmp_path / "out",
        allow_private_networks=True,
        download_retries=0,
    )


def client_of(app: Litestar) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # ASGI types differ in detail
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.fixture
async def ag(settings: Settings) -> AsyncIterator[Audiograb]:
    async with open_audiograb(settings) as opened:
        yield opened


async def test_pages_and_state_filter(ag: Audiograb) -> None:
    async with client_of(create_app(ag)) as client:
        ids = [
            (await client.post("/api/downloads", json={"url": NOWHERE, "format": "mp3"})).json()[
                "id"
            ]
            for _ in range(3)
        ]
        for job_id in ids:
            await ag.wait(job_id)
        first = (await client.get("/api/jobs", params={"limit": 2})).json()
        assert first["total"] == 3
        assert [job["id"] for job in first["jobs"]] == ids[::-1][:2]  # newest first
        second = (await client.get("/api/jobs", params={"limit": 2, "offset": 2})).json()
        assert [job["id"] for job in second["jobs"]] == [ids[0]]
        failed = (await client.get("/api/jobs", params=[("state", "failed")])).json()
        assert failed["total"] == 3
        assert failed["jobs"][0]["error"]["code"]
        assert failed["jobs"][0]["file_url"] is None
        none = await client.get("/api/jobs", params=[("state", "queued"), ("state", "completed")])
        assert none.json()["total"] == 0
        assert (await client.get(f"/api/jobs/{ids[0]}/file")).status_code == 409
        legacy = (await client.get(f"/api/download/{ids[0]}")).json()
        assert legacy["status"] == "failed"
        assert legacy["download_url"] is None
        assert legacy["error"]


async def test_unknown_jobs_are_404(ag: Audiograb) -> None:
    async with client_of(create_app(ag)) as client:
        for path in ("/api/jobs/0123abcd", "/api/jobs/nope/events", "/api/download/x"):
            response = await client.get(path)
            assert response.status_code == 404
            assert response.json() == {
                "error": {"code": "job_not_found", "message": response.json()["error"]["message"]}
            }
        assert (await client.delete("/api/jobs/0123abcd")).status_code == 404
        assert (await client.post("/api/jobs/0123abcd/retry")).status_code == 404


async def test_odd_event_ids_are_400_not_500(ag: Audiograb) -> None:
    job = await ag.submit(JobRequest(url=NOWHERE))
    odd = ["\u00b2", "\u0663", "9" * 5000, "1" * 20, "-1", "1.0", " 1"]
    async with client_of(create_app(ag)) as client:
        for path in ("/api/events", f"/api/jobs/{job.id}/events"):
            for raw in odd:
                response = await client.get(path, params={"after": raw})
                assert response.status_code == 400, (path, raw, response.text)
                assert response.json()["error"]["code"] == "invalid_request"
            superscript_two = await client.get(path, headers={"Last-Event-ID": b"\xb2"})
            assert superscript_two.status_code == 400, superscript_two.text


LISTS = ("/api/jobs", "/api/batches", "/api/schedules", "/api/webhooks/deliveries")


async def test_an_offset_beyond_sqlite_integers_is_422_not_500(ag: Audiograb) -> None:
    async with client_of(create_app(ag)) as client:
        for path in LISTS:
            too_far = await client.get(path, params={"offset": str(2**63)})
            assert too_far.status_code == 422, (path, too_far.text)
            assert too_far.json()["error"]["code"] == "validation_failed"
            farthest = await client.get(path, params={"offset": str(2**63 - 1)})
            assert farthest.status_code == 200, (path, farthest.text)


async def test_a_time_outside_the_calendar_in_utc_is_400_and_lists_keep_working(
    ag: Audiograb,
) -> None:
    async with client_of(create_app(ag)) as client:
        for at in ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00"):
            made = await client.post("/api/schedules", json={"url": NOWHERE, "at": at})
            assert made.status_code == 400, made.text
            assert made.json()["error"]["code"] == "invalid_request"
        listed = await client.get("/api/schedules")
        assert listed.status_code == 200, listed.text
        assert listed.json() == []
        epoch = await client.post(
            "/api/schedules", json={"url": NOWHERE, "at": "1970-01-01T00:00:00Z"}
        )
        assert epoch.json()["run_at_utc"] == "1970-01-01T00:00:00+00:00"


async def test_a_wrong_method_is_405_naming_the_allowed_ones(ag: Audiograb) -> None:
    async with client_of(create_app(ag)) as client:
        for method, path, allowed in [
            ("PUT", "/api/jobs", {"GET"}),
            ("TRACE", "/api/batches", {"GET", "POST"}),
            ("POST", "/api/jobs/abc", {"GET", "DELETE"}),
        ]:
            response = await client.request(method, path)
            assert response.status_code == 405, (method, path)
            assert response.json()["error"]["code"] == "method_not_allowed"
            assert {m.strip() for m in response.headers["allow"].split(",")} >= allowed


async def test_text_responses_name_their_charset_once(ag: Audiograb) -> None:
    job = await ag.wait((await ag.submit(JobRequest(url=NOWHERE, transcribe=True))).id)
    expected = {
        "txt": "text/plain; charset=utf-8",
        "srt": "application/x-subrip; charset=utf-8",
        "vtt": "text/vtt; charset=utf-8",
        "json": "application/json",
    }
    async with client_of(create_app(ag)) as client:
        for format, content_type in expected.items():
            response = await client.get(f"/api/jobs/{job.id}/transcript?format={format}")
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == content_type
        metrics = await client.get("/metrics")
        assert metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"


def multipart(*parts: tuple[bytes, bytes]) -> tuple[bytes, dict[str, str]]:
    """A form body from `(part headers, content)` pairs, and its Content-Type."""
    body = b"".join(b"--XX\r\n" + head + b"\r\n\r\n" + content + b"\r\n" for head, content in parts)
    return body + b"--XX--\r\n", {"Content-Type": "multipart/form-data; boundary=XX"}


URL_LIST = (b'Content-Disposition: form-data; name="file"; filename="urls.txt"', NOWHERE.encode())


@pytest.mark.parametrize(
    "field",
    [
        (b'Content-Disposition: form-data; name="format"', b"\xff\xfe"),
        (
            b'Content-Disposition: form-data; name="format"\r\n'
            b"Content-Type: text/plain; charset=nope",
            b"mp3",
        ),
    ],
)
async def test_form_fields_that_are_not_text_are_400_not_500(
    ag: Audiograb, field: tuple[bytes, bytes]
) -> None:
    body, headers = multipart(field, URL_LIST)
    async with client_of(create_app(ag)) as client:
        for path in ("/api/batches/upload", "/api/transcriptions"):
            response = await client.post(path, content=body, headers=headers)
            assert response.status_code == 400, (path, response.text)
            assert response.json()["error"]["code"] == "invalid_request"


LIST_FILE = {"file": ("urls.txt", NOWHERE)}
AUDIO_FILE = {"file": ("a.wav", b"RIFF")}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/batches/upload", {"files": LIST_FILE, "data": {"priority": "11"}}, "priority"),
        ("/api/batches/upload", {"files": LIST_FILE, "data": {"bogus": "1"}}, "body"),
        ("/api/transcriptions", {"files": AUDIO_FILE, "data": {"beam_size": "x"}}, "beam_size"),
        ("/api/transcriptions", {"json": {"url": NOWHERE, "beam_size": 99}}, "beam_size"),
    ],
)
async def test_bodies_a_handler_validates_itself_say_which_field_is_wrong(
    ag: Audiograb, path: str, body: dict[str, Any], field: str
) -> None:
    async with client_of(create_app(ag)) as client:
        response = await client.post(path, **body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert [detail["field"] for detail in error["details"]] == [field], error
    assert error["message"] != "the request is invalid", error  # it says why


class LongBody:
    """A request body of 100 chunks of 64 KiB, counting the chunks the server pulled."""

    CHUNK = 64 * 1024

    def __init__(self, head: bytes = b"") -> None:
        self.head = head
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.pulled += 1
        yield self.head
        for _ in range(100):
            self.pulled += 1
            yield b" " * self.CHUNK


UPLOAD_HEAD = b'--XX\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'


async def test_transcription_bodies_are_cut_off_at_their_limit_not_read_whole(
    settings: Settings,
) -> None:
    small = msgspec.structs.replace(settings, max_request_bytes=100_000, max_upload_bytes=200_000)
    json_body, upload, announced = LongBody(), LongBody(UPLOAD_HEAD), LongBody()
    sent = [
        (json_body, {"Content-Type": "application/json"}),
        (upload, {"Content-Type": "multipart/form-data; boundary=XX"}),
        (announced, {"Content-Type": "application/json", "Content-Length": "1000000000"}),
    ]
    async with open_audiograb(small) as ag, client_of(create_app(ag)) as client:
        for body, headers in sent:
            response = await client.post("/api/transcriptions", content=body, headers=headers)
            assert response.status_code == 413, response.text
            assert response.json()["error"]["code"] == "too_large"
    assert json_body.pulled <= 100_000 // LongBody.CHUNK + 2
    assert upload.pulled <= (200_000 + 65_536) // LongBody.CHUNK + 2
    assert announced.pulled == 0


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/downloads", b"[" * 200_000),
        ("/api/batches", b'{"urls": ' + b"[" * 200_000),
        ("/api/schedules", b'{"url": "x", "at": ' + b'{"a": ' * 100_000),
    ],
)
async def test_json_nested_too_deep_to_decode_is_400_not_500(
    ag: Audiograb, path: str, body: bytes
) -> None:
    async with client_of(create_app(ag)) as client:
        response = await client.post(path, content=body, headers=JSON)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == {
        "code": "invalid_request",
        "message": "the JSON body is nested too deeply",
    }


async def test_readiness_runs_the_probes(ag: Audiograb) -> None:
    async def fine() -> str:
        return "here"

    async def broken() -> str:
        raise RuntimeError("no ffmpeg anywhere")

    async with client_of(create_app(ag, probes={"ffmpeg": fine})) as client:
        ready = await client.get("/api/ready")
        assert ready.status_code == 200
        assert ready.json()["checks"]["ffmpeg"] == {"ok": True, "detail": "here"}
        assert ready.json()["checks"]["database"]["ok"]
    async with client_of(create_app(ag, probes={"ffmpeg": broken})) as client:
        ready = await client.get("/api/ready")
        assert ready.status_code == 503
        assert ready.json()["ready"] is False
        assert ready.json()["checks"]["ffmpeg"]["detail"] == "no ffmpeg anywhere"


async def test_platforms_and_openapi(ag: Audiograb) -> None:
    async with client_of(create_app(ag)) as client:
        platforms = (await client.get("/api/platforms")).json()
        assert {"youtube", "x_spaces"} <= {p["id"] for p in platforms}
        assert all(p["example_urls"] for p in platforms)
        schema = (await client.get("/api/schema/openapi.json")).json()
    paths = schema["paths"]
    for path in (
        "/api/health",
        "/api/ready",
        "/api/platforms",
        "/api/downloads",
        "/api/jobs",
        "/api/jobs/{job_id}",
        "/api/jobs/{job_id}/retry",
        "/api/jobs/{job_id}/file",
        "/api/jobs/{job_id}/events",
        "/api/events",
        "/api/download",
        "/api/download/{job_id}",
        "/api/download/{job_id}/file",
    ):
        assert path in paths, path
    body = paths["/api/downloads"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"].endswith("/DownloadBody")
    errors = paths["/api/downloads"]["post"]["responses"]["422"]["content"]["application/json"]
    assert errors["schema"]["$ref"].endswith("/ErrorBody")
    assert "text/event-stream" in paths["/api/events"]["get"]["responses"]["200"]["content"]
    assert "api" not in str(paths["/api/jobs"]["get"].get("parameters"))  # the dependency


async def test_openapi_documents_the_bodies_and_types_handlers_deal_with_themselves(
    ag: Audiograb,
) -> None:
    async with client_of(create_app(ag)) as client:
        paths = (await client.get("/api/schema/openapi.json")).json()["paths"]
    upload = paths["/api/batches/upload"]["post"]["requestBody"]
    form = upload["content"]["multipart/form-data"]["schema"]
    assert upload["required"] is True
    assert form["required"] == ["file"]
    assert form["properties"]["file"]["format"] == "binary"
    assert form["properties"]["priority"]["maximum"] == 10
    assert "mp3" in form["properties"]["format"]["enum"]
    transcription = paths["/api/transcriptions"]["post"]["requestBody"]["content"]
    assert set(transcription) == {"application/json", "multipart/form-data"}
    assert {"url", "job_id", "beam_size"} <= set(
        transcription["application/json"]["schema"]["properties"]
    )
    assert "file" in transcription["multipart/form-data"]["schema"]["properties"]
    transcript = paths["/api/jobs/{job_id}/transcript"]["get"]["responses"]["200"]["content"]
    assert set(transcript) == {"text/plain", "application/x-subrip", "text/vtt", "application/json"}
    transcript_json = transcript["application/json"]["schema"]
    assert transcript_json["type"] == "object"
    assert transcript_json["properties"]["segments"]["type"] == "array"
    ranged = paths["/api/jobs/{job_id}/file"]["get"]["responses"]["206"]["content"]
    assert set(ranged) == {"audio/*"}


async def test_openapi_lists_body_limits_and_url_checks_wherever_they_apply(
    ag: Audiograb,
) -> None:
    async with client_of(create_app(ag)) as client:
        schema = (await client.get("/api/schema/openapi.json")).json()
    components = schema["components"]["schemas"]

    def fields_of(body: dict[str, Any]) -> set[str]:
        found: set[str] = set()
        for media in body["content"].values():
            shown = media["schema"]
            if "$ref" in shown:
                shown = components[shown["$ref"].rsplit("/", 1)[-1]]
            found |= set(shown.get("properties", {}))
        return found

    checked = 0
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody")
            if body is None:
                continue
            statuses = set(operation["responses"])
            assert "413" in statuses, (method, path)
            if fields_of(body) & {"url", "urls", "webhook_url"}:
                assert {"403", "502"} <= statuses, (method, path)
                checked += 1
    assert checked == 9  # downloads, download, transcriptions, batches x2, schedules, webhooks x2,
    # resolve


async def test_openapi_says_a_key_is_needed_everywhere_but_health(
    ag: Audiograb, settings: Settings
) -> None:
    keyed = msgspec.structs.replace(settings, api_keys=("k" * 24,))
    headers = {"X-API-Key": "k" * 24}
    async with client_of(create_app(ag, settings=keyed)) as client:
        schema = (await client.get("/api/schema/openapi.json", headers=headers)).json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {"type": "apiKey", "name": "X-API-Key", "in": "header"}
    assert schemes["Bearer"]["scheme"] == "bearer"
    assert schema["security"] == [{"ApiKey": []}, {"Bearer": []}]
    health = schema["paths"]["/api/health"]["get"]
    assert health["security"] == [{}]
    assert "security" not in schema["paths"]["/api/jobs"]["get"]  # the document's applies
