"""Synchronous file transcription with faster-whisper.

Runs on a worker thread: plain callbacks in, a `Transcript` out, no event loop. Audio is decoded
with PyAV, under the local-input allow-lists of `engines.ffmpeg.inputs`, to 16 kHz mono; a
transcription resumed from a checkpoint skips the audio before `start_at` and offsets every time
so that they stay absolute.

Whisper sometimes jumps over a whole sentence, most often one that starts a 30 s window (one of
twelve sentences of a test recording vanished). With the VAD filter on (the default), every gap
of a second or more between the kept segments' words goes through Silero VAD, and each
sentence-sized region of speech found there is decoded on its own and put in its place, so
segments still arrive in time order. Where whisper heard everything, that costs a VAD pass
over the pauses only.

Long audio goes through faster-whisper's `BatchedInferencePipeline` when `batch_size` is more
than one: Silero VAD cuts the speech into chunks of up to 30 s and whisper decodes
`batch_size` chunks at once, for about a quarter less CPU time than the sequential loop and
no more word errors (`bench/transcribe_bench.py`; more where cores would otherwise idle).
Segments still arrive one by one in time order, so progress, checkpoints and cancellation
work the same.
"""

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import faster_whisper
import msgspec
import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from audiograb.domain.errors import AudiograbError, ErrorCode
from audiograb.domain.transcript import Segment, TranscribeOptions, Transcript, Word
from audiograb.engines.ffmpeg import audio_decodes
from audiograb.engines.ffmpeg.inputs import decode_pcm16, open_failure, open_media
from audiograb.engines.whisper.vad import SAMPLE_RATE

__all__ = ["SAMPLE_RATE", "SegmentCallback", "decode", "transcribe_file"]

SegmentCallback = Callable[[Segment, float | None], None]
"""Called with each kept segment and how far into the audio it ends, in percent."""

Span = tuple[float, float]
"""(start, end) in seconds."""

# A segment the model thinks is probably not speech *and* decoded with low confidence (whisper's
# own rule), or whose every word it doubts, is a hallucination: the phantom "You" or "Thank you."
# tiny models produce on silence and noise.
_NO_SPEECH_THRESHOLD = 0.6
_LOGPROB_THRESHOLD = -1.0
_WORD_DOUBT_THRESHOLD = 0.3
# Sentence-sized regions of speech (a short pause ends one), each at most one whisper window,
# padded little so that a neighbouring sentence's first or last word seldom reaches into them.
_SPEECH_REGIONS = VadOptions(
    max_speech_duration_s=30.0, min_silence_duration_ms=160, speech_pad_ms=100
)
_MIN_MISSED_SECONDS = 1.0
"""Gaps between segments, and regions of speech in them, shorter than this are left alone."""


def transcribe_file(
    model: faster_whisper.WhisperModel,
    path: Path,
    options: TranscribeOptions,
    *,
    start_at: float = 0.0,
    first_index: int = 0,
    on_segment: SegmentCallback | None = None,
    cancel: threading.Event | None = None,
    model_name: str | None = None,
    audio: Any = None,
    language_probability: float | None = None,
    batch_size: int = 1,
) -> Transcript:
    """Transcribe the audio of `path` (any file PyAV can read) from `start_at` seconds on.

    Segment indices start at `first_index`. `cancel` is checked before decoding and between
    segments: once set, this raises AudiograbError(CANCELLED). Undecodable audio and whisper
    failures raise TRANSCRIPTION_FAILED; a missing file raises FILE_NOT_FOUND. `model_name`
    (default: `options.model`) is recorded on the transcript, and so is the language with
    `language_probability` (when the caller detected it) or whisper's own probability (when
    whisper detected it). `audio` is the file's samples when the caller decoded them already
    (`decode`). `batch_size` above one decodes that many VAD-cut chunks at once.
    """
    _check_cancelled(cancel)
    if audio is None:
        audio = decode(path)
    total = len(audio) / SAMPLE_RATE
    offset = min(max(start_at, 0.0), total)
    whisper = _Whisper(model, options, path, cancel, batch_size=batch_size)
    whisper.language_probability = language_probability  # None: whisper's own, once heard
    found: Iterable[Segment] = ()
    if offset < total:
        found = whisper.segments(audio, (offset, total), vad=options.vad_filter)
        if options.vad_filter:
            found = whisper.with_skipped_speech(audio, found, (offset, total))
    kept: list[Segment] = []
    for found_segment in found:
        segment = msgspec.structs.replace(found_segment, index=first_index + len(kept))
        kept.append(segment)
        if on_segment is not None:
            on_segment(segment, _percent(segment.end, total))
    return Transcript(
        language=whisper.language,
        language_probability=whisper.language_probability,
        duration=total,
        segments=tuple(kept),
        model=model_name if model_name is not None else options.model,
    )


class _Whisper:
    """faster-whisper over spans of one file's audio; the first span fixes the language."""

    def __init__(
        self,
        model: faster_whisper.WhisperModel,
        options: TranscribeOptions,
        path: Path,
        cancel: threading.Event | None,
        *,
        batch_size: int,
    ) -> None:
        self._model = model
        self._batched = faster_whisper.BatchedInferencePipeline(model) if batch_size > 1 else None
        self._batch_size = batch_size
        self._options = options
        self._path = path
        self._cancel = cancel
        self.language = options.language
        self.language_probability: float | None = None

    def segments(self, audio: Any, span: Span, *, vad: bool) -> Iterator[Segment]:
        """The kept segments of `span` of `audio`, lazily, timed from the audio's start
        (numbered 0: the caller numbers what it keeps); `vad` skips its silences."""
        start = span[0]
        options = self._options
        common: dict[str, Any] = {
            "language": self.language,
            "task": options.task,
            "beam_size": options.beam_size,
            "word_timestamps": options.word_timestamps,
            "initial_prompt": options.initial_prompt,
            # Conditioning each window on the text before it makes whisper skip whole
            # stretches of speech it believes it has already heard (with word timestamps
            # on, 23 s of a 58 s test recording vanished).
            "condition_on_previous_text": False,
        }
        try:
            if vad and self._batched is not None:
                raw_segments, info = self._batched.transcribe(
                    _samples(audio, span), batch_size=self._batch_size, **common
                )
            else:
                raw_segments, info = self._model.transcribe(
                    _samples(audio, span), vad_filter=vad, **common
                )
        except Exception as exc:
            raise _failed(self._path, exc) from exc
        if self.language is None:
            self.language_probability = round(float(info.language_probability), 3)
        self.language = info.language
        with contextlib.closing(raw_segments):
            for raw in _guarded(raw_segments, self._path):
                _check_cancelled(self._cancel)
                if not _is_noise(raw):
                    yield _to_segment(raw, offset=start)

    def with_skipped_speech(
        self, audio: Any, found: Iterable[Segment], span: Span
    ) -> Iterator[Segment]:
        """`found` (the segments of `span`, in time order) with the speech in every gap of a
        second or more between them decoded on its own and put in its place.

        Only the gaps go through VAD, so the pass costs little where whisper heard it all.
        """
        heard_to = span[0]
        for segment in found:
            start, end = _heard(segment)
            yield from self._speech_in(audio, (heard_to, start))
            yield segment
            heard_to = max(heard_to, end)
        yield from self._speech_in(audio, (heard_to, span[1]))

    def _speech_in(self, audio: Any, gap: Span) -> Iterator[Segment]:
        if gap[1] - gap[0] < _MIN_MISSED_SECONDS:
            return
        for region in _speech_regions(audio, gap):
            if region[1] - region[0] >= _MIN_MISSED_SECONDS:
                yield from self.segments(audio, region, vad=False)


def _heard(segment: Segment) -> Span:
    """Where `segment`'s speech is: from its first word to its last (or its own times)."""
    if segment.words:
        return segment.words[0].start, segment.words[-1].end
    return segment.start, segment.end


def _speech_regions(audio: Any, span: Span) -> list[Span]:
    """Where Silero VAD hears speech in `span` of 16 kHz `audio`: regions of at most 30 s (one
    whisper window), in order."""
    regions = get_speech_timestamps(_samples(audio, span), _SPEECH_REGIONS)
    return [(span[0] + r["start"] / SAMPLE_RATE, span[0] + r["end"] / SAMPLE_RATE) for r in regions]


def _samples(audio: Any, span: Span) -> Any:
    """The samples of `span` (a view, not a copy)."""
    return audio[round(span[0] * SAMPLE_RATE) : round(span[1] * SAMPLE_RATE)]


def _check_cancelled(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise AudiograbError(ErrorCode.CANCELLED, "transcription cancelled")


def _failed(path: Path, exc: Exception) -> AudiograbError:
    return AudiograbError(ErrorCode.TRANSCRIPTION_FAILED, f"transcribing {path.name} failed: {exc}")


def decode(path: Path) -> Any:
    """The file's audio as 16 kHz mono float32 samples (a NumPy array)."""
    if not path.is_file():
        raise AudiograbError(ErrorCode.FILE_NOT_FOUND, f"no such file: {path}")
    try:
        # A video without sound would fail deep in PyAV with "tuple index out of range", and
        # random bytes decode to nothing, or to a few frames of noise: both are not media.
        with open_media(path) as container:
            soundless = not container.streams.audio
            sound = not soundless and audio_decodes(container)
        if not soundless and not sound:
            raise AudiograbError(
                ErrorCode.NOT_MEDIA, f"could not decode audio from {path.name}: no sound in it"
            )
        pcm = None if soundless else decode_pcm16(path, sample_rate=SAMPLE_RATE)
    except AudiograbError:
        raise
    except Exception as exc:
        raise AudiograbError(
            ErrorCode.NOT_MEDIA, f"could not decode audio from {path.name}: {open_failure(exc)}"
        ) from exc
    if pcm is None:
        raise AudiograbError(ErrorCode.NOT_MEDIA, f"{path.name} has no audio track")
    return np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0


def _guarded(raw_segments: Iterable[Any], path: Path) -> Iterator[Any]:
    """Iterate whisper's lazy segments, turning its failures (not ours) into typed errors."""
    iterator = iter(raw_segments)
    while True:
        try:
            raw = next(iterator)
        except StopIteration:
            return
        except Exception as exc:
            raise _failed(path, exc) from exc
        yield raw


def _is_noise(raw: Any) -> bool:
    """Empty text, or probable silence decoded with low confidence or only doubtful words."""
    if not raw.text.strip():
        return True
    if raw.no_speech_prob <= _NO_SPEECH_THRESHOLD:
        return False
    doubtful_words = bool(raw.words) and all(
        w.probability < _WORD_DOUBT_THRESHOLD for w in raw.words
    )
    return bool(raw.avg_logprob < _LOGPROB_THRESHOLD or doubtful_words)


def _to_segment(raw: Any, *, offset: float) -> Segment:
    """Our segment from faster-whisper's, numbered 0, its times shifted by `offset` seconds."""
    words = tuple(
        Word(
            start=_seconds(w.start, offset),
            end=_seconds(w.end, offset),
            text=w.word.strip(),
            probability=float(w.probability),
        )
        for w in raw.words or ()
    )
    return Segment(
        index=0,
        start=_seconds(raw.start, offset),
        end=_seconds(raw.end, offset),
        text=raw.text.strip(),
        words=words,
        avg_logprob=float(raw.avg_logprob),
        no_speech_prob=float(raw.no_speech_prob),
    )


def _seconds(value: float, offset: float) -> float:
    """An absolute time, rounded to the millisecond (NumPy floats become plain floats)."""
    return round(float(value) + offset, 3)


def _percent(position: float, total: float) -> float | None:
    """How far `position` is into `total` seconds of audio, in percent (None if unknown)."""
    return min(100.0, position / total * 100.0) if total > 0 else None
