"""Local media is read with an allow-list of demuxers: a playlist (HLS, ffconcat) that names
another file on the server is refused, whether it arrives as an upload or is given to the CLI.

The secret is real speech in an MPEG-TS segment outside every folder the job may read; the
playlist points at it by its absolute path, as an attacker who guessed the path would.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import msgspec
import pytest

from audiograb.config import Settings
from tests import speech
from tests.e2e.api_support import API_KEY, RunningApi, read_frames, running_api
from tests.e2e.test_cli import run_cli
from tests.media import run_ffmpeg

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CLIP = speech.LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0880.wav"  # "he was not an…"


@pytest.fixture(scope="module")
def secret(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Speech in a `.ts` segment in a folder of its own (the server's private file)."""
    path = tmp_path_factory.mktemp("srv-secret") / "s.ts"
    run_ffmpeg("-i", str(CLIP), "-c:a", "mp2", "-f", "mpegts", str(path))
    return path


def hls_playlist(segment: Path) -> bytes:
    return (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:30\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:30.0,\n{segment}\n#EXT-X-ENDLIST\n"
    ).encode()


def ffconcat_list(segment: Path) -> bytes:
    return f"ffconcat version 1.0\nfile '{segment}'\n".encode()


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[RunningApi]:
    keyed = msgspec.structs.replace(settings, api_keys=(API_KEY,))
    async with running_api(keyed) as running:
        yield running


@pytest.mark.parametrize("make", [hls_playlist, ffconcat_list], ids=["hls", "ffconcat"])
async def test_an_uploaded_playlist_cannot_read_a_server_file(
    api: RunningApi, secret: Path, make: object
) -> None:
    assert callable(make)
    async with api.client() as http:
        response = await http.post(
            "/api/transcriptions", files={"file": ("list.m3u8", make(secret), "text/plain")}
        )
        assert response.status_code == 201, response.text
        job = response.json()
        with anyio.fail_after(120):
            async with http.stream("GET", f"/api/jobs/{job['id']}/events") as events:
                async for _ in read_frames(events):
                    pass
        ended = (await http.get(f"/api/jobs/{job['id']}")).json()
        transcript = await http.get(f"/api/jobs/{job['id']}/transcript")
    assert ended["state"] == "failed", ended
    assert ended["error"]["code"] == "not_media"
    assert "young man" not in transcript.text.lower()


@pytest.mark.parametrize("make", [hls_playlist, ffconcat_list], ids=["hls", "ffconcat"])
@pytest.mark.parametrize("command", ["transcribe", "convert"])
def test_the_cli_refuses_a_local_playlist(
    tmp_path: Path, secret: Path, make: object, command: str
) -> None:
    assert callable(make)
    playlist = tmp_path / "list.m3u8"
    playlist.write_bytes(make(secret))
    args = ("-f", "mp3") if command == "convert" else ()
    result = run_cli(command, *args, str(playlist), data=tmp_path / "d")
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    assert "not a media file" in result.stderr, result.stderr
    assert not (tmp_path / "list.mp3").exists()
    assert not (tmp_path / "list.txt").exists()
