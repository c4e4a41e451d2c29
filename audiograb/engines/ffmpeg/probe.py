"""What a media file holds, read with PyAV (the imageio-ffmpeg wheel ships no ffprobe)."""

from pathlib import Path
from typing import Any

import av
import msgspec

from audiograb.domain import AudiograbError, ErrorCode

from .inputs import open_failure, open_media

__all__ = ["MediaProbe", "audio_decodes", "probe"]


class MediaProbe(msgspec.Struct, frozen=True, kw_only=True):
    """The container and the first audio and video streams of a file.

    Codec names are FFmpeg's canonical ones ("aac", "mp3", "opus", "vorbis", "flac",
    "pcm_s16le", "h264"), never a decoder's name such as "mp3float". Cover art (an attached
    picture) does not count as video.
    """

    container: str
    """PyAV's format name, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "mp3", "ogg"."""
    duration: float | None
    audio_codec: str | None
    audio_bitrate: int | None
    """Bits per second; for an audio-only file without a stream figure, the file's average."""
    sample_rate: int | None
    channels: int | None
    video_codec: str | None
    width: int | None = None
    height: int | None = None
    tags: dict[str, str] = {}
    """The container's tags, keys as FFmpeg names them ("title", "major_brand")."""
    audio_tags: dict[str, str] = {}
    """The first audio stream's tags: Ogg keeps its Vorbis comments here, MP4 and Matroska
    their handler names, language codes and statistics."""
    cover_index: int | None = None
    """The stream index of the file's own cover art (its first attached picture), if any."""
    cover_codec: str | None = None


def probe(path: Path) -> MediaProbe:
    """Read `path`'s container and streams; anything unreadable is `not_media`."""
    try:
        with open_media(path) as container:
            described = _describe(container)
            if described.audio_codec is not None and not audio_decodes(container):
                if described.video_codec is None:
                    raise AudiograbError(ErrorCode.NOT_MEDIA, f"{path.name} holds no sound")
                described = msgspec.structs.replace(described, audio_codec=None)
            return described
    except AudiograbError:
        raise
    except Exception as error:
        raise AudiograbError(
            ErrorCode.NOT_MEDIA, f"cannot read {path.name} as media: {open_failure(error)}"
        ) from error


#: Packets decoded at the start of an audio stream to see that it holds sound at all.
_TRIAL_PACKETS = 50


def audio_decodes(container: Any) -> bool:
    """Whether the container's first audio stream decodes to sound.

    Random bytes named .mp3 open as an MP3 "stream", of 0 channels at 0 Hz mostly, now and
    then with a header that looks right; either way nearly all its packets fail, where a real
    stream's decode (a cut first frame aside). So: more of the first packets decode than fail.
    Reads the first packets only (the container is left read past them).
    """
    stream = next(iter(container.streams.audio), None)
    if stream is None or not stream.codec_context.channels:
        return False
    decoded = failed = 0
    for index, packet in enumerate(container.demux(stream)):
        if index >= _TRIAL_PACKETS:
            break
        try:
            decoded += bool(packet.decode())
        except av.FFmpegError:
            failed += 1
    return decoded > failed


def _describe(container: Any) -> MediaProbe:
    audio = next(iter(container.streams.audio), None)
    video = next(
        (
            stream
            for stream in container.streams.video
            if not stream.disposition & av.stream.Disposition.attached_pic
        ),
        None,
    )
    if audio is None and video is None:
        raise AudiograbError(ErrorCode.NOT_MEDIA, "the file has no audio or video")
    cover = next(
        (
            stream
            for stream in container.streams.video
            if stream.disposition & av.stream.Disposition.attached_pic
        ),
        None,
    )
    audio_context = audio.codec_context if audio is not None else None
    video_context = video.codec_context if video is not None else None
    audio_bitrate = None
    if audio is not None:
        audio_bitrate = audio.bit_rate or (container.bit_rate if video is None else None)
    return MediaProbe(
        container=container.format.name,
        duration=container.duration / av.time_base if container.duration else None,
        audio_codec=_codec(audio),
        audio_bitrate=audio_bitrate or None,
        sample_rate=_positive(audio_context, "sample_rate"),
        channels=_positive(audio_context, "channels"),
        video_codec=_codec(video),
        width=_positive(video_context, "width"),
        height=_positive(video_context, "height"),
        tags=dict(container.metadata),
        audio_tags=dict(audio.metadata) if audio is not None else {},
        cover_index=cover.index if cover is not None else None,
        cover_codec=_codec(cover),
    )


def _positive(context: Any, name: str) -> int | None:
    """`context.name` when there is a context and the value is known (FFmpeg says 0 if not)."""
    value = getattr(context, name, 0) if context is not None else 0
    return int(value) if value else None


def _codec(stream: Any) -> str | None:
    if stream is None:
        return None
    name: str = stream.codec_context.codec.canonical_name
    return name
