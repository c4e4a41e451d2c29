"""The loopback media server the download tests rely on."""

import http.client
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from tests.mediaserver import MediaServer, RequestRecord, media_server

BODY = bytes(range(256)) * 40


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MediaServer]:
    (tmp_path / "clip.m4a").write_bytes(BODY)
    (tmp_path / "list.m3u8").write_text("#EXTM3U\n")
    with media_server(tmp_path) as running:
        yield running


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, dict(response.headers), response.read()


def test_serves_files_with_type_and_length(server: MediaServer) -> None:
    status, headers, body = _get(server.url("clip.m4a"))

    assert (status, body) == (200, BODY)
    assert headers["Content-Type"] == "audio/mp4"
    assert headers["Content-Length"] == str(len(BODY))
    assert _get(server.url("list.m3u8"))[1]["Content-Type"] == "application/vnd.apple.mpegurl"


@pytest.mark.parametrize(
    ("header", "start", "end"), [("bytes=100-199", 100, 200), ("bytes=10000-", 10000, None)]
)
def test_ranges_get_206(server: MediaServer, header: str, start: int, end: int | None) -> None:
    status, headers, body = _get(server.url("clip.m4a"), Range=header)

    assert status == 206
    assert body == BODY[start:end]
    assert headers["Content-Range"].endswith(f"/{len(BODY)}")
    assert server.requests == [RequestRecord("GET", "/clip.m4a", header)]


def test_redirect_and_not_found(server: MediaServer) -> None:
    server.redirect("/old", "/clip.m4a", status=301)
    server.not_found("/list.m3u8")

    assert _get(server.url("old"))[2] == BODY
    with pytest.raises(urllib.error.HTTPError, match="404"):
        _get(server.url("list.m3u8"))


def test_drop_after_cuts_the_first_requests_only(server: MediaServer) -> None:
    server.drop_after("/clip.m4a", 1000)

    with pytest.raises(http.client.IncompleteRead):
        _get(server.url("clip.m4a"))
    assert _get(server.url("clip.m4a"))[2] == BODY


@pytest.mark.anyio
async def test_serves_async_tests_on_either_backend(tmp_path: Path) -> None:
    (tmp_path / "a.mp3").write_bytes(b"ID3")
    with media_server(tmp_path) as server:
        status, _, body = await anyio.to_thread.run_sync(_get, server.url("a.mp3"))
    assert (status, body) == (200, b"ID3")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    return backend
