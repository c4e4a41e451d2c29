"""Synchronous file transcription with faster-whisper.

Runs on a worker thread: plain callbacks in, a `Transcript` out, no event loop. Audio is decoded
with PyAV (through faster-whisper) to 16 kHz mono; a transcription resumed from a checkpoint
skips the audio before `start_at` and offsets every time so that they stay absolute.

Whisper sometimes jumps over a whole sentence, most often one that starts a 30 s window (one of
twelve sentences of a test recording vanished). With the VAD filter on (the default), Silero
VAD also cuts the audio into sentence-sized regions of speech, and every region that none of
whisper's kept segments touches is decoded again on its own and put in its place, so segments
still arrive in time order. That pass costs a VAD run (about 2 % of the transcription time)
and a short decode for each region whisper skipped.
"""

import contextlib
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import av
import faster_whisper
import msgspec
from faster_whisper.vad import VadOptions, get_speech_timestamps

from audiograb.domain.errors import AudiograbError, ErrorCode
from audiograb.domain.transcript import Segment, TranscribeOptions, Transcript, Word

__all__ = ["SegmentCallback", "transcribe_file"]

SegmentCallback = Callable[[Segment, float | None], None]
"""Called with each kept segment and how far into the audio it ends, in percent."""

Span = tuple[float, float]
"""(start, end) in seconds."""

_SAMPLE_RATE = 16_000
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
"""Regions shorter than this are never decoded again (a cough, a word)."""
_HEARD_FRACTION = 0.3
"""A region less than this much covered by the words found was skipped by whisper."""


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
) -> Transcript:
    """Transcribe the audio of `path` (any file PyAV can read) from `start_at` seconds on.

    Segment indices start at `first_index`. `cancel` is checked before decoding and between
    segments: once set, this raises AudiograbError(CANCELLED). Undecodable audio and whisper
    failures raise TRANSCRIPTION_FAILED; a missing file raises FILE_NOT_FOUND. `model_name`
    (default: `options.model`) is recorded on the transcript.
    """
    _check_cancelled(cancel)
    audio = _decode(path)
    total = len(audio) / _SAMPLE_RATE
    offset = min(max(start_at, 0.0), total)
    whisper = _Whisper(model, options, path, cancel)
    found: Iterable[Segment] = ()
    if offset < total:
        found = whisper.segments(audio, (offset, total), vad=options.vad_filter)
        if options.vad_filter:
            found = whisper.with_skipped_speech(audio, found, _speech_regions(audio, offset))
    kept: list[Segment] = []
    for found_segment in found:
        segment = msgspec.structs.replace(found_segment, index=first_index + len(kept))
        kept.append(segment)
        if on_segment is not None:
            on_segment(segment, _percent(segment.end, total))
    return Transcript(
        language=whisper.language,
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
    ) -> None:
        self._model = model
        self._options = options
        self._path = path
        self._cancel = cancel
        self.language = options.language

    def segments(self, audio: Any, span: Span, *, vad: bool) -> Iterator[Segment]:
        """The kept segments of `span` of `audio`, lazily, timed from the audio's start
        (numbered 0: the caller numbers what it keeps); `vad` skips its silences."""
        start, end = span
        options = self._options
        try:
            raw_segments, info = self._model.transcribe(
                audio[round(start * _SAMPLE_RATE) : round(end * _SAMPLE_RATE)],
                language=self.language,
                task=options.task,
                beam_size=options.beam_size,
                vad_filter=vad,
                word_timestamps=options.word_timestamps,
                initial_prompt=options.initial_prompt,
                # Conditioning each window on the text before it makes whisper skip whole
                # stretches of speech it believes it has already heard (with word timestamps
                # on, 23 s of a 58 s test recording vanished).
                condition_on_previous_text=False,
            )
        except Exception as exc:
            raise _failed(self._path, exc) from exc
        self.language = info.language
        with contextlib.closing(raw_segments):
            for raw in _guarded(raw_segments, self._path):
                _check_cancelled(self._cancel)
                if not _is_noise(raw):
                    yield _to_segment(raw, offset=start)

    def with_skipped_speech(
        self, audio: Any, found: Iterable[Segment], regions: list[Span]
    ) -> Iterator[Segment]:
        """`found` (in time order) with every region of speech that its segments left unheard
        decoded on its own and put in its place."""
        pending = deque(_Region(*r) for r in regions if r[1] - r[0] >= _MIN_MISSED_SECONDS)
        for segment in found:
            while pending and pending[0].end <= segment.start:
                yield from self._unless_heard(audio, pending.popleft())
            for region in pending:
                if region.start >= segment.end:
                    break
                region.hear(segment)
            yield segment
        for region in pending:
            yield from self._unless_heard(audio, region)

    def _unless_heard(self, audio: Any, region: "_Region") -> Iterator[Segment]:
        if region.heard < _HEARD_FRACTION * (region.end - region.start):
            yield from self.segments(audio, (region.start, region.end), vad=False)


class _Region:
    """A region of speech, and how much of it the segments so far cover (seconds)."""

    def __init__(self, start: float, end: float) -> None:
        self.start = start
        self.end = end
        self.heard = 0.0

    def hear(self, segment: Segment) -> None:
        """Count the part of this region under `segment`'s words (or all of it, without)."""
        spans = [(w.start, w.end) for w in segment.words] or [(segment.start, segment.end)]
        for start, end in spans:
            self.heard += max(0.0, min(end, self.end) - max(start, self.start))


def _speech_regions(audio: Any, offset: float) -> list[Span]:
    """Where Silero VAD hears speech in 16 kHz `audio` from `offset` seconds on: regions of at
    most 30 s (one whisper window), in order."""
    first = round(offset * _SAMPLE_RATE)
    regions = get_speech_timestamps(audio[first:], _SPEECH_REGIONS)
    return [
        ((r["start"] + first) / _SAMPLE_RATE, (r["end"] + first) / _SAMPLE_RATE) for r in regions
    ]


def _check_cancelled(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise AudiograbError(ErrorCode.CANCELLED, "transcription cancelled")


def _failed(path: Path, exc: Exception) -> AudiograbError:
    return AudiograbError(ErrorCode.TRANSCRIPTION_FAILED, f"transcribing {path.name} failed: {exc}")


def _decode(path: Path) -> Any:
    """The file's audio as 16 kHz mono float32 samples (a NumPy array)."""
    if not path.is_file():
        raise AudiograbError(ErrorCode.FILE_NOT_FOUND, f"no such file: {path}")
    try:
        # A video without sound would fail deep in PyAV with "tuple index out of range".
        with av.open(str(path), metadata_errors="ignore") as container:
            soundless = not container.streams.audio
        audio = None if soundless else faster_whisper.decode_audio(str(path), _SAMPLE_RATE)
    except Exception as exc:
        raise AudiograbError(
            ErrorCode.TRANSCRIPTION_FAILED, f"could not decode audio from {path.name}: {exc}"
        ) from exc
    if audio is None:
        raise AudiograbError(ErrorCode.TRANSCRIPTION_FAILED, f"{path.name} has no audio track")
    return audio


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
