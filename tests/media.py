"""Real media for tests, made on the spot with the FFmpeg binary of the imageio-ffmpeg wheel.

Every maker writes into the path it is given and returns the file a test should open:

    tone = make_tone(tmp / "tone.m4a", seconds=4.0)             # AAC sine in an M4A
    clip = make_video(tmp / "clip.mp4", seconds=3.0)            # H.264 (or MPEG-4) + AAC
    low = make_hls(tmp / "low", seconds=6.0, kind="ts")         # -> tmp/low/index.m3u8
    master = make_master_playlist(tmp, [(low, 80_000)])         # -> tmp/master.m3u8

`MediaLibrary` makes each distinct tone once and hands out the same path afterwards, so a
session-scoped fixture can share files across tests. `audio_stream_packets` and `read_tags`
inspect results with PyAV (the wheel has no ffprobe).
"""

import os
import subprocess
from pathlib import Path
from typing import Literal

import av
import imageio_ffmpeg

from audiograb.engines.ffmpeg import video_encoder_for

__all__ = [
    "HlsKind",
    "MediaLibrary",
    "ToneFormat",
    "Waveform",
    "audio_stream_packets",
    "ffmpeg_exe",
    "make_hls",
    "make_master_playlist",
    "make_tone",
    "make_video",
    "read_tags",
    "run_ffmpeg",
]

ToneFormat = Literal["m4a", "mp3", "opus", "wav", "flac", "ogg", "aac", "mp4"]
HlsKind = Literal["ts", "fmp4"]
Waveform = Literal["sine", "noise"]

# Per format: the muxer and the audio encoder; lossless formats take no bitrate.
_TONE_CODECS: dict[str, tuple[str, str]] = {
    "m4a": ("ipod", "aac"),
    "mp4": ("mp4", "aac"),
    "aac": ("adts", "aac"),
    "mp3": ("mp3", "libmp3lame"),
    "opus": ("opus", "libopus"),
    "ogg": ("ogg", "libvorbis"),
    "wav": ("wav", "pcm_s16le"),
    "flac": ("flac", "flac"),
}
_LOSSLESS = frozenset({"wav", "flac"})
DEFAULT_BITRATE_KBPS = 128


def ffmpeg_exe() -> str:
    """The imageio-ffmpeg binary: the same FFmpeg on every machine, whatever is on PATH."""
    exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    return exe


def run_ffmpeg(*args: str) -> None:
    """Run FFmpeg quietly; a failure raises with its error output, to make test bugs obvious."""
    argv = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"ffmpeg {' '.join(args)} failed: {result.stderr.strip()}")


def _signal(
    seconds: float, frequency: float, sample_rate: int, waveform: Waveform = "sine"
) -> list[str]:
    """FFmpeg input flags for a generated signal: a mono sine or independent stereo noise."""
    if waveform == "noise":
        noise = "0.3*(random(0)*2-1)|0.3*(random(1)*2-1)"
        source = f"aevalsrc={noise}:sample_rate={sample_rate}:duration={seconds}"
    else:
        source = f"sine=frequency={frequency}:sample_rate={sample_rate}:duration={seconds}"
    return ["-f", "lavfi", "-i", source]


def make_tone(
    dest: Path,
    *,
    seconds: float = 3.0,
    format: ToneFormat | None = None,
    bitrate_kbps: int | None = None,
    frequency: float = 440.0,
    sample_rate: int = 44_100,
    channels: int = 2,
    title: str | None = None,
    waveform: Waveform = "sine",
) -> Path:
    """Write a tone to `dest` and return `dest`.

    `format` defaults to `dest`'s extension; lossy formats get `bitrate_kbps` (128 unless
    given), lossless ones ignore it. Opus is resampled to 48 kHz, as Opus requires. `title`
    becomes the file's title tag. A sine is so easy to encode that AAC and Vorbis stay well
    under high bitrates: use `waveform="noise"` when a test needs the encoder to spend them.
    """
    fmt = format or dest.suffix.lstrip(".")
    muxer, encoder = _TONE_CODECS[fmt]
    args = [
        *_signal(seconds, frequency, sample_rate, waveform),
        "-ac",
        str(channels),
        "-c:a",
        encoder,
    ]
    if fmt not in _LOSSLESS:
        args += ["-b:a", f"{bitrate_kbps or DEFAULT_BITRATE_KBPS}k"]
    if fmt == "opus":
        args += ["-ar", "48000"]
    if title is not None:
        args += ["-metadata", f"title={title}"]
    dest.parent.mkdir(parents=True, exist_ok=True)
    run_ffmpeg(*args, "-f", muxer, str(dest))
    return dest


def make_video(
    dest: Path,
    *,
    seconds: float = 3.0,
    width: int = 320,
    height: int = 240,
    fps: int = 25,
    audio_bitrate_kbps: int = DEFAULT_BITRATE_KBPS,
) -> Path:
    """Write a small MP4 (test pattern + 440 Hz tone) to `dest` and return `dest`.

    The video is H.264 from libx264 when the binary has it, else MPEG-4 part 2; audio is AAC.
    """
    pattern = f"testsrc=size={width}x{height}:rate={fps}:duration={seconds}"
    encoder = video_encoder_for(ffmpeg_exe())
    video = ["-c:v", encoder] + (["-preset", "ultrafast"] if encoder == "libx264" else [])
    dest.parent.mkdir(parents=True, exist_ok=True)
    run_ffmpeg(
        "-f", "lavfi", "-i", pattern, *_signal(seconds, 440.0, 44_100),
        *video, "-ac", "2", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", f"{audio_bitrate_kbps}k",
        "-shortest", "-f", "mp4", str(dest),
    )  # fmt: skip
    return dest


def make_hls(
    dest_dir: Path,
    *,
    seconds: float,
    segment_seconds: float = 2.0,
    kind: HlsKind = "ts",
    audio_bitrate_kbps: int = DEFAULT_BITRATE_KBPS,
    frequency: float = 440.0,
) -> Path:
    """Write an audio-only AAC HLS VOD stream into `dest_dir`; return its `index.m3u8`.

    `kind="ts"` makes MPEG-TS segments (`seg000.ts`...), `kind="fmp4"` fragmented MP4 ones
    (`init.mp4` + `seg000.m4s`...). The playlist lists every segment and ends with
    `#EXT-X-ENDLIST`; segment URIs are relative.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    playlist = dest_dir / "index.m3u8"
    segment = ["-hls_segment_type", "mpegts"]
    if kind == "fmp4":
        segment = ["-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4"]
    extension = "m4s" if kind == "fmp4" else "ts"
    run_ffmpeg(
        *_signal(seconds, frequency, 44_100), "-ac", "2",
        "-c:a", "aac", "-b:a", f"{audio_bitrate_kbps}k",
        "-f", "hls", "-hls_time", str(segment_seconds), "-hls_playlist_type", "vod", *segment,
        "-hls_segment_filename", str(dest_dir / f"seg%03d.{extension}"), str(playlist),
    )  # fmt: skip
    return playlist


def make_master_playlist(dest_dir: Path, variants: list[tuple[Path, int]]) -> Path:
    """Write `dest_dir/master.m3u8` listing media playlists with their bandwidths (bits/s).

    Variant URIs are relative to `dest_dir`, so the folder can be served as is.
    """
    lines = ["#EXTM3U", "#EXT-X-VERSION:3"]
    for playlist, bandwidth in variants:
        uri = Path(os.path.relpath(playlist, dest_dir)).as_posix()
        lines += [f'#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},CODECS="mp4a.40.2"', uri]
    master = dest_dir / "master.m3u8"
    master.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return master


def audio_stream_packets(path: Path) -> bytes:
    """The payloads of every packet of the first audio stream, concatenated.

    Equal results for two files prove a remux kept the audio bytes unchanged.
    """
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return b"".join(bytes(packet) for packet in container.demux(stream) if packet.size)


def read_tags(path: Path) -> dict[str, str]:
    """The file's tags, container and stream level merged, keys lower-cased.

    Ogg keeps its Vorbis comments on the stream, MP4 and ID3 on the container.
    """
    with av.open(str(path)) as container:
        tags = {key.lower(): value for key, value in container.metadata.items()}
        for stream in container.streams:
            tags.update({key.lower(): value for key, value in stream.metadata.items()})
    return tags


class MediaLibrary:
    """Makes each distinct tone once under `root`; fit for a session-scoped fixture.

    `library.tone("mp3", seconds=4.0)` returns the same path for the same arguments.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._made: dict[tuple[object, ...], Path] = {}

    def tone(
        self,
        format: ToneFormat,
        *,
        seconds: float = 3.0,
        bitrate_kbps: int | None = None,
        channels: int = 2,
        title: str | None = None,
        waveform: Waveform = "sine",
    ) -> Path:
        """A cached `make_tone` with these arguments."""
        key = (format, seconds, bitrate_kbps, channels, title, waveform)
        if key not in self._made:
            name = f"tone-{len(self._made)}.{format}"
            self._made[key] = make_tone(
                self.root / name,
                seconds=seconds,
                format=format,
                bitrate_kbps=bitrate_kbps,
                channels=channels,
                title=title,
                waveform=waveform,
            )
        return self._made[key]
