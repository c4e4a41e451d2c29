"""Readiness probes for what only the engines know: an FFmpeg to run, a whisper model to load.

The API asks the facade about the database itself; these two are handed to `create_app` by the
composition root, which alone may reach into the engines. Both only resolve (find the binary,
find the model directory); neither runs FFmpeg nor loads the model, so `/api/ready` stays cheap.
"""

from collections.abc import Mapping

import anyio

from audiograb.api import Probe
from audiograb.config import Settings
from audiograb.engines.ffmpeg.binary import find_ffmpeg
from audiograb.engines.whisper.models import resolve_model

__all__ = ["engine_probes"]


def engine_probes(settings: Settings) -> Mapping[str, Probe]:
    """The `ffmpeg` and `whisper_model` probes for `/api/ready`."""

    async def ffmpeg() -> str:
        return await anyio.to_thread.run_sync(find_ffmpeg, settings.ffmpeg_path)

    async def whisper_model() -> str:
        spec = await anyio.to_thread.run_sync(lambda: resolve_model(None, allow_download=False))
        return f"{spec.name} at {spec.path}"

    return {"ffmpeg": ffmpeg, "whisper_model": whisper_model}
