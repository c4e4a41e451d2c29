"""Thumbnails: a small JPEG from a video or an embedded cover; nothing from plain audio."""

from pathlib import Path

from audiograb.engines.ffmpeg import find_ffmpeg, thumbnail
from tests.media import make_tone, make_video


def test_a_video_gives_a_small_jpeg(tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", seconds=1.0)
    picture = thumbnail(video, ffmpeg=find_ffmpeg())
    assert picture is not None
    assert picture.startswith(b"\xff\xd8")  # a JPEG
    assert len(picture) < 200_000


def test_plain_audio_has_no_thumbnail(tmp_path: Path) -> None:
    tone = make_tone(tmp_path / "tone.m4a", seconds=1.0, format="m4a")
    assert thumbnail(tone, ffmpeg=find_ffmpeg()) is None


def test_a_file_that_is_not_media_has_no_thumbnail(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp3"
    junk.write_text("not audio")
    assert thumbnail(junk, ffmpeg=find_ffmpeg()) is None
