"""Output formats and quality presets."""

from enum import StrEnum


class MediaKind(StrEnum):
    """Whether a job keeps only the audio or the video too."""

    AUDIO = "audio"
    VIDEO = "video"


class AudioFormat(StrEnum):
    """Containers a job can produce. `mp4` with `MediaKind.AUDIO` is an audio-only MP4."""

    MP3 = "mp3"
    M4A = "m4a"
    AAC = "aac"
    MP4 = "mp4"
    WAV = "wav"
    OGG = "ogg"
    OPUS = "opus"
    FLAC = "flac"

    @property
    def lossless(self) -> bool:
        """Lossless formats ignore the bitrate of a quality preset."""
        return self in (AudioFormat.WAV, AudioFormat.FLAC)


class Quality(StrEnum):
    """Bitrate presets for every lossy format."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    HIGHEST = "highest"

    @property
    def kbps(self) -> int:
        """Target audio bitrate in kilobits per second."""
        return _KBPS[self]


_KBPS = {Quality.LOW: 64, Quality.MEDIUM: 128, Quality.HIGH: 192, Quality.HIGHEST: 320}
