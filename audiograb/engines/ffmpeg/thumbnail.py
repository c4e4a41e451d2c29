"""A small JPEG of a media file's picture: the embedded cover art, or a video's first frame."""

import subprocess
from pathlib import Path

import av

from .inputs import input_args, open_media

__all__ = ["THUMBNAIL_SIDE", "thumbnail"]

#: Telegram's limit for the thumbnails of audio and video messages (pixels a side).
THUMBNAIL_SIDE = 320
_TIMEOUT = 30.0


def thumbnail(path: Path, *, ffmpeg: str, side: int = THUMBNAIL_SIDE) -> bytes | None:
    """JPEG bytes no larger than `side` on either side, or None when the file has no picture."""
    if not _has_picture(path):
        return None
    scale = f"scale='min({side},iw)':'min({side},ih)':force_original_aspect_ratio=decrease"
    argv = [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", *input_args(path),
        "-map", "0:v:0", "-frames:v", "1", "-vf", scale, "-q:v", "4", "-f", "mjpeg", "pipe:1",
    ]  # fmt: skip
    try:
        done = subprocess.run(argv, capture_output=True, timeout=_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 and done.stdout else None


def _has_picture(path: Path) -> bool:
    """Whether the file has a video stream: a video, or an audio file's attached cover."""
    try:
        with open_media(path) as container:
            return bool(container.streams.video)
    except av.error.FFmpegError:
        return False
