"""Finding the FFmpeg binary and what it can encode.

Order: the configured path (`Settings.ffmpeg_path`), then `ffmpeg` on PATH, then the static
binary shipped by the `imageio-ffmpeg` wheel, so `uv sync` alone brings a working FFmpeg.
"""

import functools
import shutil
import subprocess

from audiograb.domain import AudiograbError, ErrorCode

from .plan import VideoEncoder

__all__ = ["FfmpegNotFound", "available_encoders", "find_ffmpeg", "video_encoder_for"]

_INSTALL_HINT = (
    "install FFmpeg (e.g. `apt install ffmpeg`), reinstall the `imageio-ffmpeg` package, "
    "or set AUDIOGRAB_FFMPEG_PATH"
)


class FfmpegNotFound(AudiograbError):  # noqa: N818 -- the name the pipeline uses
    """No usable FFmpeg binary; the message says how to get one."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.CONVERSION_FAILED, f"{message}; {_INSTALL_HINT}")


@functools.cache
def find_ffmpeg(explicit: str | None = None) -> str:
    """Return the FFmpeg executable to run; successful answers are cached per `explicit`.

    An explicit value (a path or a command name) that does not resolve to an executable is an
    error rather than silently ignored: a wrong setting should be noticed.
    """
    if explicit:
        found = shutil.which(explicit)
        if found is None:
            raise FfmpegNotFound(f"the configured FFmpeg {explicit!r} is not an executable")
        return found
    on_path = shutil.which("ffmpeg")
    if on_path is not None:
        return on_path
    try:
        import imageio_ffmpeg

        bundled: str = imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as error:
        raise FfmpegNotFound(f"no FFmpeg on PATH and none bundled ({error})") from error
    return bundled


@functools.cache
def available_encoders(ffmpeg: str) -> frozenset[str]:
    """Names of the encoders `ffmpeg -encoders` lists (cached per binary)."""
    try:
        listing = subprocess.run(
            [ffmpeg, "-hide_banner", "-nostdin", "-encoders"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise FfmpegNotFound(f"cannot run {ffmpeg} ({error})") from error
    names = set()
    for line in listing.splitlines():
        parts = line.split()
        # Rows look like " V....D libx264  libx264 H.264 ..."; the legend rows have no dots.
        if len(parts) >= 2 and len(parts[0]) == 6 and "." in parts[0]:
            names.add(parts[1])
    return frozenset(names)


def video_encoder_for(ffmpeg: str) -> VideoEncoder:
    """`libx264` when this binary has it, else `mpeg4` (built into every FFmpeg)."""
    return "libx264" if "libx264" in available_encoders(ffmpeg) else "mpeg4"
