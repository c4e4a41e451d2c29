"""faster-whisper adapter: model resolution and pooling, the models installed and the languages
they speak, and synchronous file transcription.

No event loop in here: callers run these on worker threads and pass plain callbacks.
"""

from audiograb.engines.whisper.catalog import (
    ENGLISH,
    LANGUAGES,
    InstalledModel,
    installed_models,
    languages_of,
)
from audiograb.engines.whisper.choice import (
    LanguagePolicy,
    Picked,
    model_for_language,
    pick_model,
    refusal,
    unknown_language,
)
from audiograb.engines.whisper.models import BUNDLED_MODEL, ModelPool, ModelSpec, resolve_model
from audiograb.engines.whisper.transcribe import (
    SAMPLE_RATE,
    SegmentCallback,
    decode,
    transcribe_file,
)

__all__ = [
    "BUNDLED_MODEL",
    "ENGLISH",
    "LANGUAGES",
    "SAMPLE_RATE",
    "InstalledModel",
    "LanguagePolicy",
    "ModelPool",
    "ModelSpec",
    "Picked",
    "SegmentCallback",
    "decode",
    "installed_models",
    "languages_of",
    "model_for_language",
    "pick_model",
    "refusal",
    "resolve_model",
    "transcribe_file",
    "unknown_language",
]
