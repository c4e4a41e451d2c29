"""The library face end to end: real yt-dlp, FFmpeg and SQLite against a loopback server."""

from pathlib import Path

import anyio
import av
import msgspec
import pytest

from audiograb.config import Settings
from audiograb.domain import (
    AudioFormat,
    AudiograbError,
    DownloadProgressed,
    ErrorCode,
    JobRequest,
    JobState,
    JobStateChanged,
    MediaKind,
    Quality,
)
from audiograb.engines.ffmpeg import probe
from audiograb.pipeline import Audiograb, Recorded, open_audiograb
from tests.media import audio_stream_packets, read_tags
from tests.mediaserver import MediaServer, media_server

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def audio_of(path: Path) -> tuple[str, str, float]:
    """(container, audio codec, seconds), probed with PyAV."""
    found = probe(path)
    assert found.audio_codec is not None
    return found.container, found.audio_codec, found.duration or 0.0


async def run_job(ag: Audiograb, request: JobRequest) -> tuple[list[Recorded], JobState]:
    job = await ag.submit(request)
    seen: list[Recorded] = []
    with anyio.fail_after(60):
        async with ag.subscribe(job.id) as events:
            seen.extend([recorded async for recorded in events])
    return seen, (await ag.get(job.id)).state


@pytest.mark.parametrize(
    ("source", "target", "codec"),
    [
        ("tone.mp3", AudioFormat.M4A, "aac"),
        ("tone.m4a", AudioFormat.MP3, "mp3"),
        ("tone.opus", AudioFormat.OGG, "vorbis"),
        ("hls-ts/index.m3u8", AudioFormat.MP3, "mp3"),
        ("hls-fmp4/index.m3u8", AudioFormat.M4A, "aac"),
    ],
)
async def test_downloads_and_converts(
    settings: Settings, server: MediaServer, source: str, target: AudioFormat, codec: str
) -> None:
    async with open_audiograb(settings) as ag:
        events, state = await run_job(ag, JobRequest(url=server.url(source), format=target))
        job = await ag.get(events[0].event.job_id)
    assert state is JobState.COMPLETED, job.error
    assert job.output_path is not None
    output = Path(job.output_path)
    assert output.parent == settings.output_root.resolve()
    assert output.suffix == f".{target.value}"
    _, found_codec, seconds = audio_of(output)
    expected = 8.0 if source.startswith("hls") else 4.0
    assert found_codec == codec
    assert abs(seconds - expected) < 0.5
    assert not (settings.work_root / job.id).exists()


async def test_events_tell_the_whole_story_in_order(
    settings: Settings, server: MediaServer
) -> None:
    async with open_audiograb(settings) as ag:
        events, _ = await run_job(
            ag, JobRequest(url=server.url("long.m4a"), format=AudioFormat.MP3)
        )
        job_id = events[0].event.job_id
        # Replaying after a seen event gives exactly the rest: no gap, no duplicate.
        middle = events[len(events) // 2].event.seq
        async with ag.subscribe(job_id, after=middle) as replay:
            rest = [recorded async for recorded in replay]
    seqs = [recorded.event.seq for recorded in events]
    assert seqs == list(range(1, len(events) + 1))
    assert [r.event.seq for r in rest] == seqs[middle:]
    states = [r.event.state for r in events if isinstance(r.event, JobStateChanged)]
    assert states == [JobState.DOWNLOADING, JobState.CONVERTING]
    types = [type(r.event).__name__ for r in events]
    assert types[0] == "JobSubmitted"
    assert types[-1] == "JobCompleted"
    assert "ConversionProgressed" in types


async def test_master_playlist_takes_the_better_variant(
    settings: Settings, server: MediaServer
) -> None:
    async with open_audiograb(settings) as ag:
        _, state = await run_job(ag, JobRequest(url=server.url("master.m3u8")))
    assert state is JobState.COMPLETED
    fetched = {request.path for request in server.requests}
    assert any(path.startswith("/var-high/") and path.endswith(".ts") for path in fetched)
    assert not any(path.startswith("/var-low/") and path.endswith(".ts") for path in fetched)


async def test_redirect_and_dropped_connection_still_complete(
    settings: Settings, server: MediaServer
) -> None:
    server.redirect("/moved.m4a", "/long.m4a")
    server.drop_after("/long.m4a", 20_000)
    async with open_audiograb(settings) as ag:
        events, state = await run_job(ag, JobRequest(url=server.url("moved.m4a")))
        job = await ag.get(events[0].event.job_id)
    assert state is JobState.COMPLETED, job.error
    assert job.output_path is not None
    assert abs(audio_of(Path(job.output_path))[2] - 30.0) < 0.5


async def test_not_found_fails_with_a_clear_error(settings: Settings, server: MediaServer) -> None:
    async with open_audiograb(settings) as ag:
        events, state = await run_job(ag, JobRequest(url=server.url("missing.mp3")))
        job = await ag.get(events[0].event.job_id)
    assert state is JobState.FAILED
    assert job.error is not None
    assert job.error.code is ErrorCode.NOT_FOUND
    assert not (settings.work_root / job.id).exists()


async def test_cancel_mid_download_stops_and_cleans_up(
    settings: Settings, server: MediaServer
) -> None:
    server.slow("/long.m4a", bytes_per_second=20_000)
    async with open_audiograb(settings) as ag:
        job = await ag.submit(JobRequest(url=server.url("long.m4a")))
        with anyio.fail_after(30):
            async with ag.subscribe(job.id) as events:
                async for recorded in events:
                    if isinstance(recorded.event, DownloadProgressed):
                        break
            cancelled = await ag.cancel(job.id)
    assert cancelled.state is JobState.CANCELLED
    assert not (settings.work_root / job.id).exists()
    assert not any(settings.output_root.glob("*"))


async def test_m4a_to_mp4_is_a_remux(settings: Settings, server: MediaServer) -> None:
    async with open_audiograb(settings) as ag:
        events, state = await run_job(
            ag, JobRequest(url=server.url("tone.m4a"), format=AudioFormat.MP4)
        )
        job = await ag.get(events[0].event.job_id)
    assert state is JobState.COMPLETED
    assert job.output_path is not None
    source = server.root / "tone.m4a"
    assert audio_stream_packets(Path(job.output_path)) == audio_stream_packets(source)


async def test_bad_urls_fail_before_a_job_exists(settings: Settings) -> None:
    async with open_audiograb(settings) as ag:
        for url, code in [
            ("ftp://example.com/a.mp3", ErrorCode.INVALID_URL),
            ("not a url", ErrorCode.INVALID_URL),
            ("https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy", ErrorCode.UNSUPPORTED_YET),
        ]:
            with pytest.raises(AudiograbError) as caught:
                await ag.submit(JobRequest(url=url))
            assert caught.value.code is code
        assert await ag.count() == 0


async def test_loopback_is_refused_by_default(settings: Settings, server: MediaServer) -> None:
    guarded = msgspec.structs.replace(settings, allow_private_networks=False)
    async with open_audiograb(guarded) as ag:
        with pytest.raises(AudiograbError) as caught:
            await ag.submit(JobRequest(url=server.url("tone.mp3")))
    assert caught.value.code is ErrorCode.FORBIDDEN_ADDRESS


async def test_concurrency_limit_holds(settings: Settings, server: MediaServer) -> None:
    server.latency = 0.05
    async with open_audiograb(settings) as ag:
        jobs = [
            await ag.submit(JobRequest(url=server.url("tone.mp3"), quality=Quality.LOW))
            for _ in range(5)
        ]
        busiest = 0
        async with ag.subscribe() as events:
            with anyio.fail_after(60):
                async for _ in events:
                    working = await ag.count(states=[JobState.DOWNLOADING, JobState.CONVERTING])
                    busiest = max(busiest, working)
                    if await ag.count(states=[JobState.COMPLETED]) == len(jobs):
                        break
    assert 1 <= busiest <= settings.max_concurrent_jobs


async def test_video_request_keeps_video(settings: Settings, server: MediaServer) -> None:
    async with open_audiograb(settings) as ag:
        events, state = await run_job(
            ag,
            JobRequest(url=server.url("clip.mp4"), format=AudioFormat.MP4, media=MediaKind.VIDEO),
        )
        job = await ag.get(events[0].event.job_id)
    assert state is JobState.COMPLETED, job.error
    assert job.output_path is not None
    with av.open(job.output_path) as container:
        assert container.streams.video


async def test_file_served_by_a_script_is_titled_by_its_content_disposition(
    settings: Settings, media_root: Path, tmp_path: Path
) -> None:
    # yt-dlp refused the ".php" extension, and would have titled the file "download".
    site_root = tmp_path / "site"
    site_root.mkdir()
    (site_root / "download.php").write_bytes((media_root / "tone.m4a").read_bytes())
    with media_server(site_root) as site:
        site.set_headers(
            "download.php",
            Content_Type="audio/mp4",
            Content_Disposition="attachment; filename*=UTF-8''Nice%20Episode%20%C3%BCber.m4a",
        )
        async with open_audiograb(settings) as ag:
            url = site.url("download.php?episode=3")
            events, state = await run_job(ag, JobRequest(url=url, format=AudioFormat.MP3))
            job = await ag.get(events[0].event.job_id)
    assert state is JobState.COMPLETED, job.error
    assert job.media is not None
    assert job.media.title == "Nice Episode über"
    output = Path(job.output_path or "")
    assert output.name.startswith("Nice Episode über [")
    assert read_tags(output)["title"] == "Nice Episode über"
    assert audio_of(output)[1] == "mp3"
