"""The FFmpeg engine against the real imageio-ffmpeg binary and media made by `tests.media`."""

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import av
import msgspec
import pytest

from audiograb.domain import (
    AudioFormat,
    AudiograbError,
    ConversionProgress,
    ErrorCode,
    MediaInfo,
    MediaKind,
    Quality,
)
from audiograb.engines.ffmpeg import (
    ConversionPlan,
    FfmpegNotFound,
    MediaProbe,
    convert,
    find_ffmpeg,
    parse_progress,
    plan_conversion,
    probe,
    tags_for,
    video_encoder_for,
)
from tests.media import (
    MediaLibrary,
    ToneFormat,
    audio_stream_packets,
    ffmpeg_exe,
    make_tone,
    make_video,
    read_tags,
    run_ffmpeg,
)

MP4_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"
# Target format -> (codec, PyAV container name) of what it must produce.
EXPECTED: dict[AudioFormat, tuple[str, str]] = {
    AudioFormat.MP3: ("mp3", "mp3"),
    AudioFormat.M4A: ("aac", MP4_FAMILY),
    AudioFormat.AAC: ("aac", "aac"),
    AudioFormat.MP4: ("aac", MP4_FAMILY),
    AudioFormat.WAV: ("pcm_s16le", "wav"),
    AudioFormat.OGG: ("vorbis", "ogg"),
    AudioFormat.OPUS: ("opus", "ogg"),
    AudioFormat.FLAC: ("flac", "flac"),
}
SECONDS = 3.0


@pytest.fixture(scope="session")
def library(tmp_path_factory: pytest.TempPathFactory) -> MediaLibrary:
    return MediaLibrary(tmp_path_factory.mktemp("ffmpeg-media"))


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("ffmpeg-video") / "clip.mp4", seconds=SECONDS)


@pytest.fixture(scope="session")
def binary() -> str:
    return ffmpeg_exe()


def run(
    source: Path,
    out_dir: Path,
    format: AudioFormat,
    *,
    quality: Quality = Quality.HIGH,
    media: MediaKind = MediaKind.AUDIO,
    tags: dict[str, str] | None = None,
) -> tuple[Path, ConversionPlan]:
    """Probe, plan and convert `source` into `out_dir`; return the output and the plan."""
    plan = plan_conversion(probe(source), format=format, quality=quality, media=media, tags=tags)
    dest = out_dir / f"out-{format.value}-{quality.value}.{plan.extension}"
    convert(source, dest, plan, ffmpeg=ffmpeg_exe())
    return dest, plan


def _children() -> dict[int, str]:
    """This process's live or zombie children (Linux /proc), by pid, with their states."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            children[int(stat.parent.name)] = fields[0]
    return children


@pytest.fixture
def child_processes() -> Callable[[], list[str]]:
    """States of the children this test started: the session's servers (PostgreSQL, S3),
    started by earlier tests, are children of this process too and do not count."""
    before = set(_children())
    return lambda: [state for pid, state in _children().items() if pid not in before]


# --- probe -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["m4a", "mp3", "opus", "wav", "flac", "ogg", "aac", "mp4"])
def test_probe_reads_each_generated_format(library: MediaLibrary, fmt: ToneFormat) -> None:
    found = probe(library.tone(fmt, seconds=SECONDS))
    codec, container = EXPECTED[AudioFormat(fmt)]
    assert (found.audio_codec, found.container) == (codec, container)
    assert found.duration == pytest.approx(SECONDS, abs=0.1)
    assert found.channels == 2
    assert found.sample_rate == (48_000 if fmt == "opus" else 44_100)
    assert found.video_codec is None
    assert found.audio_bitrate is not None


def test_probe_reads_video(clip: Path) -> None:
    found = probe(clip)
    assert found.video_codec in {"h264", "mpeg4"}
    assert (found.width, found.height) == (320, 240)
    assert found.audio_codec == "aac"


def test_probe_of_a_text_file_is_not_media(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp3"
    text.write_text("certainly not audio\n" * 50)
    with pytest.raises(AudiograbError) as caught:
        probe(text)
    assert caught.value.code is ErrorCode.NOT_MEDIA
    assert "notes.mp3" in caught.value.message


# --- every target --------------------------------------------------------------------------


@pytest.mark.parametrize("target", list(AudioFormat))
def test_every_target_from_a_tone(
    library: MediaLibrary, tmp_path: Path, target: AudioFormat
) -> None:
    dest, plan = run(library.tone("wav", seconds=SECONDS), tmp_path, target)
    assert dest.suffix == f".{target.value}"
    found = probe(dest)
    assert (found.audio_codec, found.container) == EXPECTED[target]
    assert found.duration == pytest.approx(SECONDS, abs=0.5)
    assert plan.stream_copy is (target is AudioFormat.WAV)
    assert list(tmp_path.iterdir()) == [dest]


@pytest.mark.parametrize(
    "target", [AudioFormat.MP3, AudioFormat.M4A, AudioFormat.OGG, AudioFormat.OPUS]
)
def test_quality_presets_set_the_bitrate(
    library: MediaLibrary, tmp_path: Path, target: AudioFormat
) -> None:
    source = library.tone("flac", seconds=2.0, waveform="noise")
    bitrates = [
        probe(run(source, tmp_path, target, quality=q)[0]).audio_bitrate or 0 for q in Quality
    ]
    assert bitrates == sorted(set(bitrates))  # each preset is bigger than the one before
    for quality, bitrate in zip(Quality, bitrates, strict=True):
        # MP3 is CBR; AAC and Opus are VBR and undershoot on easy or short signals.
        tolerance = 0.0 if target is AudioFormat.MP3 else 0.35
        assert bitrate == pytest.approx(quality.kbps * 1000, rel=tolerance)


@pytest.mark.parametrize(
    ("sample_rate", "channels"), [(8_000, 1), (22_050, 1), (44_100, 1), (48_000, 6), (96_000, 2)]
)
@pytest.mark.parametrize("target", [AudioFormat.OGG, AudioFormat.OPUS, AudioFormat.MP3])
def test_every_preset_encodes_unusual_rates_and_layouts(
    tmp_path: Path, target: AudioFormat, sample_rate: int, channels: int
) -> None:
    # Telephone-rate speech, mono music, 5.1 and hi-res sources: encoders take a bitrate only
    # within limits that depend on both (libvorbis refused 320k mono and anything at 8 kHz).
    source = make_tone(
        tmp_path / "source.wav", seconds=1.0, sample_rate=sample_rate, channels=channels
    )
    for quality in (Quality.LOW, Quality.HIGHEST):
        dest, _ = run(source, tmp_path, target, quality=quality)
        assert probe(dest).audio_codec == EXPECTED[target][0]
        assert probe(dest).duration == pytest.approx(1.0, abs=0.2)


def test_lossless_targets_ignore_quality(library: MediaLibrary) -> None:
    source = probe(library.tone("mp3"))
    for target in (AudioFormat.WAV, AudioFormat.FLAC):
        plans = {
            plan_conversion(source, format=target, quality=q, media=MediaKind.AUDIO).args
            for q in Quality
        }
        assert len(plans) == 1
        assert "-b:a" not in next(iter(plans))


# --- stream copy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source_format", "target"),
    [
        ("m4a", AudioFormat.MP4),
        ("m4a", AudioFormat.M4A),
        ("mp3", AudioFormat.MP3),
        ("opus", AudioFormat.OPUS),
        ("ogg", AudioFormat.OGG),
        ("flac", AudioFormat.FLAC),
    ],
)
def test_fitting_codec_is_copied_byte_for_byte(
    library: MediaLibrary, tmp_path: Path, source_format: ToneFormat, target: AudioFormat
) -> None:
    source = library.tone(source_format)
    dest, plan = run(source, tmp_path, target)
    assert plan.stream_copy
    assert plan.args[plan.args.index("-c:a") :][:2] == ("-c:a", "copy")
    assert audio_stream_packets(dest) == audio_stream_packets(source)


@pytest.mark.parametrize(
    ("source_format", "target"), [("aac", AudioFormat.M4A), ("m4a", AudioFormat.AAC)]
)
def test_adts_and_mp4_aac_remux_both_ways(
    library: MediaLibrary, tmp_path: Path, source_format: ToneFormat, target: AudioFormat
) -> None:
    dest, plan = run(library.tone(source_format), tmp_path, target)
    assert plan.stream_copy
    assert probe(dest).audio_codec == "aac"
    assert probe(dest).duration == pytest.approx(SECONDS, abs=0.1)


def test_mp3_above_the_preset_is_reencoded_lower(library: MediaLibrary, tmp_path: Path) -> None:
    source = library.tone("mp3", bitrate_kbps=320)
    assert plan_conversion(
        probe(source), format=AudioFormat.MP3, quality=Quality.HIGHEST, media=MediaKind.AUDIO
    ).stream_copy
    dest, plan = run(source, tmp_path, AudioFormat.MP3, quality=Quality.LOW)
    assert not plan.stream_copy
    assert probe(dest).audio_bitrate == 64_000


@pytest.mark.parametrize(
    ("source_format", "target"),
    [("wav", AudioFormat.MP3), ("opus", AudioFormat.OGG), ("mp3", AudioFormat.M4A)],
)
def test_unfitting_codec_is_encoded(
    library: MediaLibrary, tmp_path: Path, source_format: ToneFormat, target: AudioFormat
) -> None:
    dest, plan = run(library.tone(source_format), tmp_path, target)
    assert not plan.stream_copy
    assert probe(dest).audio_codec == EXPECTED[target][0]


# --- video ---------------------------------------------------------------------------------


def test_video_to_m4a_drops_the_video(clip: Path, tmp_path: Path) -> None:
    dest, plan = run(clip, tmp_path, AudioFormat.M4A)
    found = probe(dest)
    assert found.video_codec is None
    assert found.audio_codec == "aac"
    assert plan.stream_copy
    assert audio_stream_packets(dest) == audio_stream_packets(clip)


def test_audio_mp4_from_video_is_audio_only(clip: Path, tmp_path: Path) -> None:
    dest, _ = run(clip, tmp_path, AudioFormat.MP4)
    assert probe(dest).video_codec is None


def test_video_mp4_copies_what_fits(clip: Path, tmp_path: Path) -> None:
    dest, plan = run(clip, tmp_path, AudioFormat.MP4, media=MediaKind.VIDEO)
    found = probe(dest)
    assert (found.video_codec, found.audio_codec) == (probe(clip).video_codec, "aac")
    assert plan.stream_copy is (found.video_codec == "h264")
    assert found.duration == pytest.approx(SECONDS, abs=0.5)


def test_video_that_does_not_fit_mp4_is_encoded(clip: Path) -> None:
    vp9 = msgspec.structs.replace(probe(clip), video_codec="vp9", audio_codec="opus")
    plan = plan_conversion(
        vp9,
        format=AudioFormat.MP4,
        quality=Quality.HIGH,
        media=MediaKind.VIDEO,
        video_encoder="mpeg4",
    )
    assert not plan.stream_copy
    assert plan.args[plan.args.index("-c:v") + 1] == "mpeg4"
    assert plan.args[plan.args.index("-c:a") + 1] == "aac"


def test_video_encoder_for_the_bundled_binary(binary: str) -> None:
    assert video_encoder_for(binary) in {"libx264", "mpeg4"}


def test_hevc_copy_is_tagged_for_apple_players(clip: Path) -> None:
    hevc = msgspec.structs.replace(probe(clip), video_codec="hevc")
    plan = plan_conversion(
        hevc, format=AudioFormat.MP4, quality=Quality.HIGH, media=MediaKind.VIDEO
    )
    assert plan.stream_copy
    assert plan.args[plan.args.index("-tag:v") :][:2] == ("-tag:v", "hvc1")


def test_video_request_for_an_audio_format_keeps_audio_only(clip: Path) -> None:
    plan = plan_conversion(
        probe(clip), format=AudioFormat.MP3, quality=Quality.HIGH, media=MediaKind.VIDEO
    )
    assert "0:V:0" not in plan.args


# --- planning details ----------------------------------------------------------------------


def test_opus_bitrate_is_capped_per_channel() -> None:
    mono = MediaProbe(
        container="wav",
        duration=1.0,
        audio_codec="pcm_s16le",
        audio_bitrate=705_600,
        sample_rate=44_100,
        channels=1,
        video_codec=None,
    )
    plan = plan_conversion(
        mono, format=AudioFormat.OPUS, quality=Quality.HIGHEST, media=MediaKind.AUDIO
    )
    assert plan.args[plan.args.index("-b:a") + 1] == "256k"


def test_no_audio_is_not_media(clip: Path) -> None:
    silent = msgspec.structs.replace(probe(clip), audio_codec=None, audio_bitrate=None)
    with pytest.raises(AudiograbError) as caught:
        plan_conversion(silent, format=AudioFormat.MP3, quality=Quality.HIGH, media=MediaKind.AUDIO)
    assert caught.value.code is ErrorCode.NOT_MEDIA


# --- tags ----------------------------------------------------------------------------------

MEDIA = MediaInfo(
    title='Episode 7: Ümlauts & "quotes"',
    uploader="The Host",
    date="2024-05-06",
    description="What we talked about.",
    webpage_url="https://example.com/ep7",
)


def test_tags_for_uses_generic_keys_and_skips_empty_values() -> None:
    assert tags_for(MEDIA, "https://example.com/ep7?utm=x") == {
        "title": MEDIA.title,
        "artist": "The Host",
        "date": "2024-05-06",
        "description": "What we talked about.",
        "comment": "https://example.com/ep7",
        "purl": "https://example.com/ep7",
    }
    bare = tags_for(MediaInfo(title="  ", uploader=""), "https://example.com/a.mp3")
    assert bare == {"comment": "https://example.com/a.mp3", "purl": "https://example.com/a.mp3"}


@pytest.mark.parametrize(
    "target",
    [AudioFormat.MP3, AudioFormat.M4A, AudioFormat.MP4, AudioFormat.OGG, AudioFormat.OPUS,
     AudioFormat.FLAC, AudioFormat.WAV],
)  # fmt: skip
def test_tags_are_written(library: MediaLibrary, tmp_path: Path, target: AudioFormat) -> None:
    source = library.tone("m4a", title="Source title")
    dest, _ = run(source, tmp_path, target, tags=tags_for(MEDIA, None))
    found = read_tags(dest)
    assert found["title"] == MEDIA.title
    assert found["artist"] == "The Host"
    assert found["date"].startswith("2024")
    if target in (AudioFormat.OGG, AudioFormat.OPUS, AudioFormat.FLAC):
        # Vorbis comments: DESCRIPTION (read back as "comment") and PURL.
        assert (found["comment"], found["purl"]) == (MEDIA.description, MEDIA.webpage_url)
    elif target is not AudioFormat.WAV:
        assert found["comment"] == MEDIA.webpage_url


def test_source_tags_are_kept_unless_overridden(library: MediaLibrary, tmp_path: Path) -> None:
    source = library.tone("m4a", title="Source title")
    dest, _ = run(source, tmp_path, AudioFormat.MP3, tags={"artist": "Someone"})
    found = read_tags(dest)
    assert (found["title"], found["artist"]) == ("Source title", "Someone")


CONTAINER_JUNK = {"major_brand", "minor_version", "compatible_brands", "handler_name"}


def chapter_titles(path: Path) -> list[str]:
    with av.open(str(path)) as container:
        return [chapter["metadata"].get("title", "") for chapter in container.chapters()]


@pytest.fixture(scope="session")
def chaptered_clip(clip: Path) -> Path:
    """The video clip with a title and two named chapters, as podcasts and lectures have."""
    chapters = clip.with_name("chapters.txt")
    chapters.write_text(
        ";FFMETADATA1\ntitle=Lecture 3\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1500\ntitle=Intro\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=1500\nEND=3000\ntitle=Main part\n"
    )
    dest = clip.with_name("chaptered.mp4")
    run_ffmpeg("-i", str(clip), "-i", str(chapters), "-map", "0", "-map_metadata", "1",
               "-c", "copy", str(dest))  # fmt: skip
    return dest


@pytest.mark.parametrize(
    "target", [AudioFormat.MP3, AudioFormat.OGG, AudioFormat.OPUS, AudioFormat.FLAC,
               AudioFormat.M4A, AudioFormat.WAV]
)  # fmt: skip
def test_mp4_container_tags_are_not_carried_over(
    chaptered_clip: Path, tmp_path: Path, target: AudioFormat
) -> None:
    dest, _ = run(chaptered_clip, tmp_path, target)
    found = read_tags(dest)
    assert found["title"] == "Lecture 3"
    if target is not AudioFormat.M4A:  # an MP4 output has a file-type box of its own
        assert not CONTAINER_JUNK & found.keys(), found


def test_chapters_keep_their_titles(chaptered_clip: Path, tmp_path: Path) -> None:
    for target in (AudioFormat.MP3, AudioFormat.M4A):
        dest, _ = run(chaptered_clip, tmp_path, target)
        assert chapter_titles(dest) == ["Intro", "Main part"]


@pytest.mark.parametrize("source_format", ["ogg", "opus"])
@pytest.mark.parametrize(
    "target", [AudioFormat.MP3, AudioFormat.M4A, AudioFormat.FLAC, AudioFormat.OGG,
               AudioFormat.OPUS]
)  # fmt: skip
def test_vorbis_comments_of_an_ogg_source_are_kept_and_ours_win(
    library: MediaLibrary, tmp_path: Path, source_format: ToneFormat, target: AudioFormat
) -> None:
    # Ogg keeps its tags on the stream: they were lost for other containers, and for Ogg
    # targets they beat the tags we set.
    source = library.tone(source_format, title="Their title")
    found = read_tags(run(source, tmp_path, target)[0])
    assert found["title"] == "Their title"
    (tmp_path / "ours").mkdir()
    ours = read_tags(run(source, tmp_path / "ours", target, tags={"title": "Our title"})[0])
    assert ours["title"] == "Our title"


def picture_of(path: Path) -> bytes | None:
    """The bytes of the file's attached picture, if it has one."""
    with av.open(str(path)) as container:
        for stream in container.streams.video:
            if stream.disposition & av.stream.Disposition.attached_pic:
                return b"".join(bytes(packet) for packet in container.demux(stream) if packet.size)
    return None


def make_picture(dest: Path, pattern: str) -> Path:
    run_ffmpeg("-f", "lavfi", "-i", f"{pattern}=size=64x64", "-frames:v", "1", str(dest))
    return dest


@pytest.fixture(scope="session")
def covered_mp3(library: MediaLibrary) -> Path:
    """A tagged MP3 with its own front cover, as music libraries are full of."""
    art = make_picture(library.root / "art.jpg", "testsrc")
    dest = library.root / "covered.mp3"
    run_ffmpeg("-i", str(library.tone("mp3", title="Song")), "-i", str(art), "-map", "0:a",
               "-map", "1:v", "-c", "copy", "-disposition:v:0", "attached_pic",
               "-id3v2_version", "3", str(dest))  # fmt: skip
    return dest


@pytest.mark.parametrize(
    "target", [AudioFormat.MP3, AudioFormat.M4A, AudioFormat.FLAC, AudioFormat.OGG]
)
def test_the_source_cover_is_kept_where_the_target_holds_one(
    covered_mp3: Path, tmp_path: Path, target: AudioFormat
) -> None:
    # `-map 0:a:0` dropped it: converting a music file lost its artwork, even mp3 -> mp3.
    dest, _ = run(covered_mp3, tmp_path, target)
    if target is AudioFormat.OGG:
        assert picture_of(dest) is None  # FFmpeg's Ogg muxer takes no picture
    else:
        assert picture_of(dest) == picture_of(covered_mp3)
    assert probe(dest).video_codec is None  # a cover is not video
    assert read_tags(dest)["title"] == "Song"


def test_a_fetched_cover_wins_over_the_source_cover(covered_mp3: Path, tmp_path: Path) -> None:
    fetched = make_picture(tmp_path / "thumbnail.png", "rgbtestsrc")
    plan = plan_conversion(
        probe(covered_mp3),
        format=AudioFormat.M4A,
        quality=Quality.HIGH,
        media=MediaKind.AUDIO,
        cover=probe(fetched),
    )
    dest = tmp_path / "out.m4a"
    convert(covered_mp3, dest, plan, ffmpeg=ffmpeg_exe(), cover=fetched)
    assert picture_of(dest) == fetched.read_bytes()


# --- running: progress, cancel, failure ----------------------------------------------------


def slowed(plan: ConversionPlan, speed: float) -> ConversionPlan:
    """The same encode, throttled to `speed` times real time by FFmpeg's `arealtime` filter."""
    return msgspec.structs.replace(plan, args=("-af", f"arealtime=speed={speed}", *plan.args))


def encode_plan(source: Path) -> ConversionPlan:
    return plan_conversion(
        probe(source), format=AudioFormat.MP3, quality=Quality.LOW, media=MediaKind.AUDIO
    )


def test_progress_rises_to_100_percent(library: MediaLibrary, tmp_path: Path) -> None:
    source = library.tone("wav", seconds=4.0)
    updates: list[ConversionProgress] = []
    dest = tmp_path / "out.mp3"
    convert(
        source,
        dest,
        slowed(encode_plan(source), speed=4.0),
        ffmpeg=ffmpeg_exe(),
        duration=4.0,
        on_progress=updates.append,
    )
    assert len(updates) >= 2
    seconds = [update.out_seconds for update in updates]
    assert seconds == sorted(seconds)
    assert seconds[0] < 4.0
    assert updates[-1].percent == 100.0
    assert updates[-1].out_seconds == pytest.approx(4.0, abs=0.1)
    assert all(update.speed is None or update.speed > 0 for update in updates)
    assert probe(dest).duration == pytest.approx(4.0, abs=0.5)


def test_cancel_stops_ffmpeg_promptly_and_cleans_up(
    library: MediaLibrary, tmp_path: Path, child_processes: Callable[[], list[str]]
) -> None:
    source = library.tone("flac", seconds=60.0)
    cancel = threading.Event()
    dest = tmp_path / "out.mp3"
    started = time.monotonic()
    with pytest.raises(AudiograbError) as caught:
        convert(
            source,
            dest,
            slowed(encode_plan(source), speed=1.0),  # would take a minute
            ffmpeg=ffmpeg_exe(),
            duration=60.0,
            on_progress=lambda _: cancel.set(),
            cancel=cancel,
        )
    assert caught.value.code is ErrorCode.CANCELLED
    assert time.monotonic() - started < 10.0
    assert list(tmp_path.iterdir()) == []
    assert child_processes() == []


def test_cancel_set_before_start_raises_cancelled(library: MediaLibrary, tmp_path: Path) -> None:
    source = library.tone("wav")
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(AudiograbError) as caught:
        convert(source, tmp_path / "o.mp3", encode_plan(source), ffmpeg=ffmpeg_exe(), cancel=cancel)
    assert caught.value.code is ErrorCode.CANCELLED
    assert list(tmp_path.iterdir()) == []


def test_failing_ffmpeg_is_conversion_failed_with_its_error(
    library: MediaLibrary, tmp_path: Path, child_processes: Callable[[], list[str]]
) -> None:
    source = library.tone("wav")
    broken = msgspec.structs.replace(
        encode_plan(source), args=("-c:a", "no-such-encoder", "-f", "mp3")
    )
    with pytest.raises(AudiograbError) as caught:
        convert(source, tmp_path / "o.mp3", broken, ffmpeg=ffmpeg_exe())
    assert caught.value.code is ErrorCode.CONVERSION_FAILED
    assert "no-such-encoder" in caught.value.message
    assert list(tmp_path.iterdir()) == []
    assert child_processes() == []


def test_text_file_input_is_conversion_failed(library: MediaLibrary, tmp_path: Path) -> None:
    text = tmp_path / "notes.m4a"
    text.write_text("not media at all\n")
    plan = encode_plan(library.tone("wav"))
    with pytest.raises(AudiograbError) as caught:
        convert(text, tmp_path / "o.mp3", plan, ffmpeg=ffmpeg_exe())
    assert caught.value.code is ErrorCode.CONVERSION_FAILED
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.m4a"]


def test_callback_errors_stop_ffmpeg_and_propagate(
    library: MediaLibrary, tmp_path: Path, child_processes: Callable[[], list[str]]
) -> None:
    source = library.tone("flac", seconds=60.0)

    def explode(_: ConversionProgress) -> None:
        raise RuntimeError("subscriber broke")

    with pytest.raises(RuntimeError, match="subscriber broke"):
        convert(
            source,
            tmp_path / "o.mp3",
            slowed(encode_plan(source), speed=1.0),
            ffmpeg=ffmpeg_exe(),
            on_progress=explode,
        )
    assert list(tmp_path.iterdir()) == []
    assert child_processes() == []


def test_existing_destination_is_replaced(library: MediaLibrary, tmp_path: Path) -> None:
    source = library.tone("wav")
    dest = tmp_path / "o.mp3"
    dest.write_bytes(b"old")
    convert(source, dest, encode_plan(source), ffmpeg=ffmpeg_exe())
    assert probe(dest).audio_codec == "mp3"


def test_parse_progress_blocks() -> None:
    text = """frame=0
out_time_us=N/A
out_time_ms=N/A
speed=N/A
progress=continue
out_time_us=-9223372036854775807
progress=continue
out_time_ms=1500000
speed=2.5x
progress=continue
out_time_us=3000000
speed=3x
progress=end
"""
    updates = list(parse_progress(text.splitlines(), duration=3.0))
    assert updates == [
        ConversionProgress(out_seconds=0.0, percent=0.0, speed=None),
        ConversionProgress(out_seconds=1.5, percent=50.0, speed=2.5),
        ConversionProgress(out_seconds=3.0, percent=100.0, speed=3.0),
    ]
    assert [u.percent for u in parse_progress(text.splitlines(), duration=None)] == [None] * 3


# --- the binary ----------------------------------------------------------------------------


def test_find_ffmpeg_prefers_an_explicit_path(binary: str) -> None:
    assert find_ffmpeg(binary) == binary
    assert os.access(find_ffmpeg(), os.X_OK)


def test_find_ffmpeg_rejects_a_wrong_setting(tmp_path: Path) -> None:
    with pytest.raises(FfmpegNotFound) as caught:
        find_ffmpeg(str(tmp_path / "no-ffmpeg-here"))
    assert caught.value.code is ErrorCode.CONVERSION_FAILED
    assert "AUDIOGRAB_FFMPEG_PATH" in caught.value.message
