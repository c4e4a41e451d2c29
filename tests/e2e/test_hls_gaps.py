"""A missing HLS segment: the job completes (yt-dlp skips it), and says what is missing.

A 20 s HLS stream in 2 s segments behind the loopback server, whose fifth segment answers 404.
"""

from pathlib import Path

import anyio
import av
import msgspec
import pytest

from audiograb.cli.follow import finish
from audiograb.config import Settings
from audiograb.domain import DownloadGapsFound, JobCompleted, JobRequest, JobState
from audiograb.pipeline import open_audiograb
from tests.media import make_hls
from tests.mediaserver import media_server

pytestmark = pytest.mark.anyio


def audio_seconds(path: Path) -> float:
    """Seconds of audio the file really holds: its AAC frames counted, 1024 samples each.

    Not the container's duration nor the packets' durations: across a hole in the timestamps
    the muxer stretches the packet before it as if the hole were sound.
    """
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        frames = sum(1 for packet in container.demux(stream) if packet.size)
        return frames * (stream.codec_context.frame_size or 1024) / stream.codec_context.sample_rate


async def test_a_missing_segment_is_recorded_as_a_gap_and_the_real_duration_reported(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = msgspec.structs.replace(settings, fragment_retries=0)
    media = tmp_path / "media"
    make_hls(media / "gap", seconds=20.0, segment_seconds=2.0)
    with media_server(media) as server:
        server.not_found("/gap/seg004.ts")
        async with open_audiograb(settings) as ag:
            job = await ag.submit(JobRequest(url=server.url("gap/index.m3u8")))
            with anyio.fail_after(60):
                done = await ag.wait(job.id)
            async with ag.subscribe(job.id) as events:
                log = [recorded.event async for recorded in events]
    assert done.state is JobState.COMPLETED, done.error
    assert len(done.gaps) == 1
    gap = done.gaps[0]
    assert gap.start == pytest.approx(8.0, abs=0.1)
    assert gap.end == pytest.approx(10.0, abs=0.1)
    found = [event for event in log if isinstance(event, DownloadGapsFound)]
    assert len(found) == 1
    assert found[0].gaps == done.gaps
    assert found[0].missing == pytest.approx(2.0, abs=0.1)
    completed = log[-1]
    assert isinstance(completed, JobCompleted)
    assert completed.gaps == done.gaps
    assert done.output_path is not None
    real = audio_seconds(Path(done.output_path))
    assert real == pytest.approx(18.0, abs=0.5)
    assert completed.duration == pytest.approx(real, abs=0.2)

    finish(done)  # the CLI's last word on a job
    printed = capsys.readouterr()
    assert printed.out.strip() == done.output_path
    assert "warning: 2.0 s missing" in printed.err
    assert "0:08-0:10" in printed.err
