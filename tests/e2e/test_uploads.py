"""`POST /api/uploads`: a file sent in a form, converted as a download would be."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import msgspec
import pytest

from audiograb.config import Settings
from audiograb.engines.ffmpeg import probe
from audiograb.pipeline import Audiograb, open_audiograb

pytestmark = pytest.mark.anyio


@pytest.fixture
async def ag(settings: Settings) -> AsyncIterator[Audiograb]:
    small = msgspec.structs.replace(settings, max_upload_bytes=200_000)
    async with open_audiograb(small) as opened:
        yield opened


async def test_an_upload_is_converted(
    ag: Audiograb, client: httpx.AsyncClient, media_root: Path
) -> None:
    files = {"file": ("talk.m4a", (media_root / "tone.m4a").read_bytes(), "audio/mp4")}
    answer = await client.post("/api/uploads", files=files, data={"format": "mp3", "priority": "7"})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["request"]["format"], body["priority"], body["platform"]) == ("mp3", 7, "upload")
    done = await ag.wait(body["id"])
    assert done.output_path is not None
    assert probe(Path(done.output_path)).audio_codec == "mp3"
    assert done.media is not None
    assert done.media.title == "talk"


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        ({"format": "mp9"}, 422, "validation_failed"),
        ({"url": "https://example.com/x.mp3"}, 422, "validation_failed"),
    ],
)
async def test_bad_options_are_refused(
    client: httpx.AsyncClient, media_root: Path, data: dict[str, str], status: int, code: str
) -> None:
    files = {"file": ("a.m4a", (media_root / "tone.m4a").read_bytes(), "audio/mp4")}
    answer = await client.post("/api/uploads", files=files, data=data)
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code


async def test_no_file_and_too_large_are_refused(
    client: httpx.AsyncClient, media_root: Path
) -> None:
    missing = await client.post("/api/uploads", data={"format": "mp3"}, files={"x": ("a", b"1")})
    assert missing.json()["error"]["code"] == "invalid_request"
    big = {"file": ("long.m4a", (media_root / "long.m4a").read_bytes(), "audio/mp4")}
    refused = await client.post("/api/uploads", files=big)
    assert refused.status_code == 413
    assert refused.json()["error"]["code"] == "too_large"
