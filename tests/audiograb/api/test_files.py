"""Byte ranges, content types and download names of the file route."""

from pathlib import Path

import pytest

from audiograb.api.errors import ApiCode, ApiError
from audiograb.api.files import ByteRange, content_disposition, content_type, parse_range
from audiograb.domain import MediaKind


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", ByteRange(0, 100)),
        ("bytes=100-", ByteRange(100, 1000)),
        ("bytes=-10", ByteRange(990, 1000)),
        ("bytes=-5000", ByteRange(0, 1000)),
        ("bytes=900-5000", ByteRange(900, 1000)),
        ("bytes=999-999", ByteRange(999, 1000)),
        ("bytes=0-1,5-6", None),  # several ranges: the whole file is a valid answer
        ("bytes=5-1", None),  # invalid: ignored
        ("items=0-1", None),
        ("bytes=-", None),
        ("junk", None),
        ("bytes=0-" + "9" * 5000, ByteRange(0, 1000)),  # past Python's int parsing limit
        ("bytes=-" + "9" * 5000, ByteRange(0, 1000)),
        ("bytes=" + "0" * 5000 + "1-2", ByteRange(1, 3)),
        ("bytes=\u0661-2", None),  # only ASCII digits are digits here
    ],
)
def test_parse_range(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize(
    "header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0", "bytes=" + "9" * 5000 + "-"]
)
def test_unsatisfiable_range_is_416_with_the_size(header: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_range(header, 1000)
    assert caught.value.code == ApiCode.RANGE_NOT_SATISFIABLE
    assert caught.value.headers["Content-Range"] == "bytes */1000"


@pytest.mark.parametrize(
    ("name", "media", "expected"),
    [
        ("a.mp3", MediaKind.AUDIO, "audio/mpeg"),
        ("a.m4a", MediaKind.AUDIO, "audio/mp4"),
        ("a.mp4", MediaKind.AUDIO, "audio/mp4"),
        ("a.mp4", MediaKind.VIDEO, "video/mp4"),
        ("a.opus", MediaKind.AUDIO, "audio/ogg; codecs=opus"),
        ("a.flac", MediaKind.AUDIO, "audio/flac"),
        ("a.WAV", MediaKind.AUDIO, "audio/wav"),
        ("a.bin", MediaKind.AUDIO, "application/octet-stream"),
        ("talk [0a1b2c3d].json", MediaKind.AUDIO, "application/json"),
    ],
)
def test_content_type(name: str, media: MediaKind, expected: str) -> None:
    assert content_type(Path(name), media) == expected


def test_disposition_keeps_unicode_in_filename_star() -> None:
    value = content_disposition("小宇宙 · Episode 1", ".mp3", "job")
    assert value.startswith('attachment; filename="')
    assert "filename*=UTF-8''%E5%B0%8F%E5%AE%87%E5%AE%99" in value
    assert value.encode("latin-1")  # a header value must be latin-1 safe


@pytest.mark.parametrize(
    "title",
    [
        "../../etc/passwd",
        'evil"; filename="x.exe',
        "line\r\nSet-Cookie: a=b",
        "C:\\Windows\\system32",
        "\x00\x1f\u202e",
        "",
        None,
        ". . .",
    ],
)
def test_disposition_never_carries_separators_quotes_or_controls(title: str | None) -> None:
    value = content_disposition(title, ".m4a", "abc123")
    ascii_name = value.split('filename="', 1)[1].split('"', 1)[0]
    assert ascii_name.endswith(".m4a")
    assert not set(ascii_name) & set('/\\"\r\n;')
    assert ".." not in ascii_name.removesuffix(".m4a")
    star = value.split("filename*=UTF-8''", 1)[1]
    assert not set(star) & set('/\\"\r\n; ')
    assert all(32 <= ord(ch) < 127 for ch in value)


def test_disposition_falls_back_to_the_job_id() -> None:
    assert 'filename="abc123.mp3"' in content_disposition("   ", ".mp3", "abc123")
    assert 'filename="abc123.mp3"' in content_disposition("日本語", ".mp3", "abc123")


def test_long_titles_are_cut() -> None:
    value = content_disposition("x" * 1000, ".mp3", "id")
    assert len(value) < 400
