"""Caps on endless streams: a download past its size or length fails with a clear code.

A chunked response that never ends and a live HLS playlist that never gets its end tag, both
from the loopback media server, through real yt-dlp (and real FFmpeg for the live one).
"""

import anyio
import msgspec
import pytest

from audiograb.config import Settings
from audiograb.domain import (
    AudiograbError,
    DownloadProgressed,
    ErrorCode,
    JobRequest,
    JobState,
)
from audiograb.pipeline import open_audiograb
from tests.mediaserver import MediaServer

pytestmark = pytest.mark.anyio

MB = 1024 * 1024


async def test_endless_streams_stop_at_the_size_and_duration_caps(
    settings: Settings, server: MediaServer
) -> None:
    settings = msgspec.structs.replace(settings, max_download_bytes=8 * MB, max_duration=600.0)
    server.endless("/tone.mp3")
    playlist = (server.root / "hls-ts" / "index.m3u8").read_text()
    live = playlist.replace("#EXT-X-PLAYLIST-TYPE:VOD\n", "").replace("#EXT-X-ENDLIST\n", "")
    (server.root / "hls-ts" / "live.m3u8").write_text(live)
    async with open_audiograb(settings) as ag:
        with pytest.raises(AudiograbError) as refused:
            await ag.submit(JobRequest(url=server.url("tone.mp3"), max_bytes=9 * MB))
        assert refused.value.code is ErrorCode.INVALID_REQUEST
        capped = await ag.submit(JobRequest(url=server.url("tone.mp3")))
        smaller = await ag.submit(JobRequest(url=server.url("tone.mp3"), max_bytes=2 * MB))
        recording = await ag.submit(
            JobRequest(url=server.url("hls-ts/live.m3u8"), max_duration=3.0)
        )
        with anyio.fail_after(120):
            ended = [await ag.wait(job.id) for job in (capped, smaller, recording)]
        async with ag.subscribe(recording.id) as events:
            progress = [
                recorded.event.progress
                async for recorded in events
                if isinstance(recorded.event, DownloadProgressed)
            ]
    assert [job.state for job in ended] == [JobState.FAILED] * 3
    errors = [job.error for job in ended]
    assert [error.code if error else None for error in errors] == [
        ErrorCode.TOO_LARGE,
        ErrorCode.TOO_LARGE,
        ErrorCode.TOO_LONG,
    ]
    assert errors[0] is not None
    assert "8 MB" in errors[0].message
    assert errors[1] is not None
    assert "2 MB" in errors[1].message
    assert any(p.recorded is not None and p.recorded > 0 for p in progress), progress
    for job in ended:
        assert not (settings.work_root / job.id).exists()
