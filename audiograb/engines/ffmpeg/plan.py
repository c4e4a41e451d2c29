"""Deciding how to turn a probed source into the requested format: copy or encode, and how.

Streams are copied whenever the codec already fits the target and re-encoding could not make
the file better (its bitrate is within the preset, or the target is lossless); only what does
not fit is encoded. The plan is pure data: `convert` runs it.

Cover art (a second input, the fetched thumbnail; else the source's own attached picture) is
embedded as an attached picture where the container holds one: MP3 (ID3v2.3 APIC), M4A/MP4
audio (`covr`) and FLAC (PICTURE block). JPEG and PNG are copied, other images (WebP
thumbnails) become JPEG. Ogg and Opus files get none:
FFmpeg's Ogg muxer takes no picture stream, and a METADATA_BLOCK_PICTURE comment would have to
pass the whole image on the command line. Video outputs keep their own first frame instead.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import msgspec

from audiograb.domain import AudioFormat, AudiograbError, ErrorCode, MediaInfo, MediaKind, Quality

from .probe import MediaProbe

__all__ = ["ConversionPlan", "VideoEncoder", "plan_conversion", "tags_for"]

VideoEncoder = Literal["libx264", "mpeg4"]

# A source up to this much above the preset's bitrate is copied: re-encoding it would lose
# quality for a barely smaller file.
_COPY_TOLERANCE = 1.1
# libopus refuses more than 256 kb/s per channel.
_OPUS_MAX_KBPS_PER_CHANNEL = 256
# Video codecs an MP4 holds and players play; anything else is encoded.
_MP4_VIDEO = frozenset({"h264", "hevc", "av1"})
_VIDEO_ARGS: dict[VideoEncoder, tuple[str, ...]] = {
    "libx264": ("-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"),
    "mpeg4": ("-c:v", "mpeg4", "-q:v", "4", "-pix_fmt", "yuv420p"),
}


class ConversionPlan(msgspec.Struct, frozen=True, kw_only=True):
    """How FFmpeg makes the output: argv between the input and the output path."""

    args: tuple[str, ...]
    """Map, codec, bitrate, tag and muxer (`-f`) flags; the muxer is explicit, so the output
    path may have any name (`convert` writes to a hidden partial file first)."""
    stream_copy: bool
    """True when nothing is re-encoded."""
    extension: str
    """The output file's extension, without the dot."""
    cover: bool = False
    """True when the plan maps a cover picture from the second input (`convert`'s `cover`)."""


@dataclass(frozen=True)
class _Target:
    muxer: str
    encoder: str
    copyable: frozenset[str]
    bitrate: bool = True
    tags: bool = True
    skip_tags: frozenset[str] = frozenset()
    faststart: bool = False
    cover: tuple[str, ...] | None = None
    """Extra flags for an attached picture; None: the container holds none."""
    quality_scale: Mapping[Quality, str] | None = None
    """The encoder's own quality levels (`-q:a`) to use instead of a bitrate (`-b:a`)."""


_AAC = frozenset({"aac"})
# FFmpeg writes both `comment` and `description` as the Vorbis comment DESCRIPTION: keep the
# description there; the source URL still goes in as PURL.
_VORBIS_COMMENTS = frozenset({"comment"})
# ID3v2.3 is what most players read; the stream comment makes the APIC a front cover.
_ID3_COVER = ("-id3v2_version", "3", "-metadata:s:v:0", "comment=Cover (front)")
# libvorbis's bitrate mode (`-b:a`) refuses whatever its tuning tables lack: 320k mono at
# 44.1 kHz, 64k in 5.1, anything at 8 or 96 kHz... Its quality mode works for every input; these
# levels give the presets' rates for stereo at 44.1/48 kHz, and scale with the channels.
_VORBIS_QUALITY = {Quality.LOW: "0", Quality.MEDIUM: "4", Quality.HIGH: "6", Quality.HIGHEST: "9"}
_TARGETS: dict[AudioFormat, _Target] = {
    AudioFormat.MP3: _Target("mp3", "libmp3lame", frozenset({"mp3"}), cover=_ID3_COVER),
    AudioFormat.M4A: _Target("ipod", "aac", _AAC, faststart=True, cover=()),
    AudioFormat.AAC: _Target("adts", "aac", _AAC, tags=False),
    AudioFormat.MP4: _Target("mp4", "aac", frozenset({"aac", "mp3"}), faststart=True, cover=()),
    AudioFormat.WAV: _Target("wav", "pcm_s16le", frozenset({"pcm_s16le"}), bitrate=False),
    AudioFormat.OGG: _Target(
        "ogg",
        "libvorbis",
        frozenset({"vorbis"}),
        skip_tags=_VORBIS_COMMENTS,
        quality_scale=_VORBIS_QUALITY,
    ),
    AudioFormat.OPUS: _Target("opus", "libopus", frozenset({"opus"}), skip_tags=_VORBIS_COMMENTS),
    AudioFormat.FLAC: _Target(
        "flac", "flac", frozenset({"flac"}), bitrate=False, skip_tags=_VORBIS_COMMENTS, cover=()
    ),
}
# Tags that describe the source file rather than the media: MP4's file-type box, the encoder
# and creation time, Matroska's per-track statistics, iTunes' gapless and loudness data (wrong
# after an encode). FFmpeg writes fresh ones where the output needs them.
_TECHNICAL_TAGS = frozenset(
    {
        "major_brand",
        "minor_version",
        "compatible_brands",
        "encoder",
        "creation_time",
        "handler_name",
        "vendor_id",
        "duration",
        "bps",
        "number_of_frames",
        "number_of_bytes",
        "itunsmpb",
        "itunnorm",
        "timecode",
    }
)
# Picture codecs every container above takes as they are.
_COVER_COPYABLE = frozenset({"mjpeg", "png"})


def plan_conversion(
    source: MediaProbe,
    *,
    format: AudioFormat,
    quality: Quality,
    media: MediaKind,
    tags: Mapping[str, str] | None = None,
    video_encoder: VideoEncoder = "libx264",
    cover: MediaProbe | None = None,
) -> ConversionPlan:
    """Plan the conversion of `source` to `format`.

    Video is kept only for `media=VIDEO` with an MP4 target and a source that has video; every
    other plan maps just the first audio stream (and a cover), which drops video, subtitles and
    data streams. `tags` (as from `tags_for`) override the source's own tags, which are kept;
    formats without tags (raw AAC) ignore them. Pass `video_encoder_for(ffmpeg)` as
    `video_encoder` when the binary might lack libx264. `cover` is the probe of a picture that
    `convert` passes as the second input; it is embedded when the target holds one (see the
    module notes) and ignored otherwise. The plan says whether it did (`cover`). Without it, the
    source's own cover art is kept where the target holds one.
    """
    target = _TARGETS[format]
    keep_video = (
        media is MediaKind.VIDEO and format is AudioFormat.MP4 and source.video_codec is not None
    )
    if source.audio_codec is None and not keep_video:
        raise AudiograbError(ErrorCode.NOT_MEDIA, "the source has no audio to convert")
    args: list[str] = []
    copied = True
    if keep_video:
        video_copy = source.video_codec in _MP4_VIDEO
        copied = video_copy
        args += ["-map", "0:V:0"]
        if video_copy:
            args += ["-c:v", "copy"] + (["-tag:v", "hvc1"] if source.video_codec == "hevc" else [])
        else:
            args += _VIDEO_ARGS[video_encoder]
    if source.audio_codec is not None:
        audio_args, audio_copy = _audio_args(source, target, quality)
        copied = copied and audio_copy
        args += ["-map", "0:a:0", *audio_args]
    with_cover = False
    picture = _picture(source, cover)
    if picture is not None and target.cover is not None and not keep_video:
        stream, picture_codec = picture
        codec = "copy" if picture_codec in _COVER_COPYABLE else "mjpeg"
        args += ["-map", stream, "-c:v", codec, "-disposition:v:0", "attached_pic"]
        args += target.cover
        with_cover = cover is not None  # the fetched picture: `convert`'s second input
    if target.tags:
        args += _tag_args(source, target, tags or {})
    if target.faststart:
        args += ["-movflags", "+faststart"]
    args += ["-f", target.muxer]
    return ConversionPlan(
        args=tuple(args), stream_copy=copied, extension=format.value, cover=with_cover
    )


def _picture(source: MediaProbe, cover: MediaProbe | None) -> tuple[str, str | None] | None:
    """The cover to embed, as (`-map` specifier, codec): the fetched picture (second input)
    when there is one, else the source's own attached picture, which `-map 0:a:0` would drop."""
    if cover is not None:
        return "1:v:0", cover.video_codec
    if source.cover_index is not None:
        return f"0:{source.cover_index}", source.cover_codec
    return None


def _tag_args(source: MediaProbe, target: _Target, tags: Mapping[str, str]) -> list[str]:
    """Keep the source's descriptive tags as the output's tags, `tags` over them.

    FFmpeg would copy stream tags stream to stream, and container tags to the container; but
    the Ogg muxer lets a stream's tags beat the container's (so a source's own title beat
    ours), and MP4's file-type box, handler names or Matroska statistics are no description
    of the media. So: the source's tags that describe it (in Ogg, its audio stream's Vorbis
    comments) become the output's container tags, without the technical ones; no stream tags
    are copied; chapters and their titles are, as FFmpeg does by default.
    """
    vorbis_comments = source.container == "ogg" and source.audio_codec is not None
    args = ["-map_metadata", "0:s:a:0" if vorbis_comments else "0", "-map_metadata:s:a", "-1"]
    for key in source.audio_tags if vorbis_comments else source.tags:
        if _is_technical(key):
            args += ["-metadata", f"{key}="]  # an empty value removes the tag
    for key, value in tags.items():
        if value.strip() and key not in target.skip_tags:
            args += ["-metadata", f"{key}={value.strip()}"]
    return args


def _is_technical(key: str) -> bool:
    name = key.lower()
    return name in _TECHNICAL_TAGS or name.startswith("_statistics_")


def _audio_args(source: MediaProbe, target: _Target, quality: Quality) -> tuple[list[str], bool]:
    """The audio codec flags, and whether they copy."""
    kbps = quality.kbps
    if target.encoder == "libopus":
        kbps = min(kbps, _OPUS_MAX_KBPS_PER_CHANNEL * (source.channels or 1))
    within = source.audio_bitrate is None or source.audio_bitrate <= kbps * 1000 * _COPY_TOLERANCE
    if source.audio_codec in target.copyable and (within or not target.bitrate):
        return ["-c:a", "copy"], True
    encode = ["-c:a", target.encoder]
    if not target.bitrate:
        return encode, False
    if target.quality_scale is not None:
        return [*encode, "-q:a", target.quality_scale[quality]], False
    return [*encode, "-b:a", f"{kbps}k"], False


def tags_for(media: MediaInfo, source_url: str | None) -> dict[str, str]:
    """The tags to write for `media`, under FFmpeg's generic metadata keys.

    Follows yt-dlp's convention: `comment` and `purl` hold the source page (the media's own
    page when known, else `source_url`), `description` the description. Each muxer stores the
    keys its container can hold (ID3 frames, MP4 atoms, Vorbis comments, RIFF INFO) and drops
    the rest. Empty values are left out.
    """
    url = media.webpage_url or source_url
    candidates = {
        "title": media.title,
        "artist": media.uploader,
        "date": media.date,
        "description": media.description,
        "comment": url,
        "purl": url,
    }
    return {key: value.strip() for key, value in candidates.items() if value and value.strip()}
