"""The FFmpeg engine: find the binary, probe media, plan a conversion, run it.

Synchronous and loop-free: `convert` blocks its (worker) thread, reports progress through a
callback and stops when a `threading.Event` is set. Typical use:

    binary = find_ffmpeg(settings.ffmpeg_path)
    source = probe(path)
    plan = plan_conversion(source, format=fmt, quality=q, media=kind, tags=tags_for(info, url))
    convert(path, dest, plan, ffmpeg=binary, duration=source.duration, on_progress=..., cancel=...)
"""

from .binary import FfmpegNotFound, available_encoders, find_ffmpeg, video_encoder_for
from .plan import ConversionPlan, VideoEncoder, plan_conversion, tags_for
from .probe import MediaProbe, audio_decodes, probe
from .run import convert, parse_progress
from .thumbnail import thumbnail

__all__ = [
    "ConversionPlan",
    "FfmpegNotFound",
    "MediaProbe",
    "VideoEncoder",
    "audio_decodes",
    "available_encoders",
    "convert",
    "find_ffmpeg",
    "parse_progress",
    "plan_conversion",
    "probe",
    "tags_for",
    "thumbnail",
    "video_encoder_for",
]
