"""faster-whisper adapter: model resolution and pooling, and synchronous file transcription.

No event loop in here: callers run these on worker threads and pass plain callbacks.
"""

from audiograb.engines.whisper.models import BUNDLED_MODEL, ModelPool, ModelSpec, resolve_model
from audiograb.engines.whisper.transcribe import SegmentCallback, transcribe_file

__all__ = [
    "BUNDLED_MODEL",
    "ModelPool",
    "ModelSpec",
    "SegmentCallback",
    "resolve_model",
    "transcribe_file",
]
