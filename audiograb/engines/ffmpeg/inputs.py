"""Opening a local media file safely: an allow-list of demuxers, the file protocol only.

FFmpeg's demuxers do more than read one file: an HLS playlist or an `ffconcat` list names
other files (any absolute path on the server) or URLs, and FFmpeg follows them. An upload is
a file an attacker wrote, so every local file we read, with PyAV or the FFmpeg binary, is
opened with `format_whitelist` (demuxers that read one self-contained file of audio, video or
a picture) and `protocol_whitelist=file`; a playlist then fails to open instead of pulling in
what it names.
"""

import contextlib
from pathlib import Path
from typing import Any

import av

__all__ = [
    "LOCAL_DEMUXERS",
    "NOT_MEDIA",
    "decode_pcm16",
    "input_args",
    "open_failure",
    "open_media",
]

LOCAL_DEMUXERS = frozenset(
    {
        # audio
        "aac", "ac3", "aiff", "amr", "ape", "au", "caf", "dsf", "dts", "eac3", "flac", "gsm",
        "loas", "mp3", "mpc", "mpc8", "ogg", "spdif", "tak", "truehd", "tta", "voc", "w64",
        "wav", "wv", "xwma",
        # audio and video containers and elementary streams
        "asf", "avi", "dv", "flv", "h264", "hevc", "ivf", "m4v", "matroska", "mov", "mpeg",
        "mpegts", "mpegvideo", "mxf", "nut", "obu", "rm",
        # pictures (cover art)
        "bmp_pipe", "gif", "image2", "jpeg_pipe", "mjpeg", "png_pipe", "webp_pipe",
    }
)  # fmt: skip
"""Demuxers that read only the one file they are given (not hls, concat, dash, sdp, rtsp...)."""

_FORMAT_WHITELIST = ",".join(sorted(LOCAL_DEMUXERS))
_OPTIONS = {"format_whitelist": _FORMAT_WHITELIST, "protocol_whitelist": "file"}

NOT_MEDIA = "not a media file we read (playlists and lists of other files are refused)"
"""What a file that no allowed demuxer opens is said to be."""


def input_args(path: Path) -> list[str]:
    """FFmpeg arguments that read `path` as one input, under the same allow-lists."""
    return [
        "-protocol_whitelist", "file", "-format_whitelist", _FORMAT_WHITELIST,
        "-i", f"file:{path}",
    ]  # fmt: skip


def open_media(path: Path) -> Any:
    """`av.open` for a local file, under the allow-lists (an `av.error.FFmpegError` if not)."""
    return av.open(f"file:{path}", metadata_errors="ignore", container_options=dict(_OPTIONS))


def open_failure(error: Exception) -> str:
    """Why `open_media` (or decoding) failed, in words without the server path PyAV adds."""
    if isinstance(error, av.error.ArgumentError | av.error.InvalidDataError):
        return NOT_MEDIA
    return str(getattr(error, "strerror", None) or error)


def decode_pcm16(path: Path, *, sample_rate: int) -> bytes:
    """The first audio stream of `path` as mono 16-bit little-endian PCM at `sample_rate`.

    Audio that turns invalid part way (a truncated download) ends there, as in faster-whisper's
    own decoder, rather than losing what came before it.
    """
    resampler = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)
    chunks: list[bytes] = []
    with open_media(path) as container:
        with contextlib.suppress(av.error.InvalidDataError):
            for frame in container.decode(audio=0):
                chunks.extend(_samples(out) for out in resampler.resample(frame))
        chunks.extend(_samples(out) for out in resampler.resample(None))
    return b"".join(chunks)


def _samples(frame: Any) -> bytes:
    return bytes(frame.planes[0])[: frame.samples * 2]
