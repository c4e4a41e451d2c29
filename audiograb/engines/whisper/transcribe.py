"""Synchronous file transcription with faster-whisper.

Runs on a worker thread: plain callbacks in, a `Transcript` out, no event loop. Audio is decoded
with PyAV (through faster-whisper) to 16 kHz mono; a transcription resumed from a checkpoint
skips the audio before `start_at` and offsets every time so that they stay absolute.
"""

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import av
import faster_whisper

from audiograb.domain.errors import AudiograbError, ErrorCode
from audiograb.domain.transcript import Segment, TranscribeOptions, Transcript, Word

__all__ = ["SegmentCallback", "transcribe_file"]

SegmentCallback = Callable[[Segment, float | None], None]
"""Called with each kept segment and how far into the audio it ends, in percent."""

_SAMPLE_RATE = 16_000
# A segment the model thinks is probably not speech *and* decoded with low confidence (whisper's
# own rule), or whose every word it doubts, is a hallucination: the phantom "You" or "Thank you."
# tiny models produce on silence and noise.
_NO_SPEECH_THRESHOLD = 0.6
_LOGPROB_THRESHOLD = -1.0
_WORD_DOUBT_THRESHOLD = 0.3


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
    audio = audio[round(offset * _SAMPLE_RATE) :]
    name = model_name if model_name is not None else options.model
    if len(audio) == 0:
        return Transcript(language=options.language, duration=total, segments=(), model=name)
    try:
        raw_segments, info = model.transcribe(
            audio,
            language=options.language,
            task=options.task,
            beam_size=options.beam_size,
            vad_filter=options.vad_filter,
            word_timestamps=options.word_timestamps,
            initial_prompt=options.initial_prompt,
            # Conditioning each window on the text before it makes whisper skip whole stretches
            # of speech it believes it has already heard (with word timestamps on, 23 s of a
            # 58 s test recording vanished); each window standing alone costs nothing we measured.
            condition_on_previous_text=False,
        )
    except Exception as exc:
        raise _failed(path, exc) from exc
    kept: list[Segment] = []
    with contextlib.closing(raw_segments):
        for raw in _guarded(raw_segments, path):
            _check_cancelled(cancel)
            if _is_noise(raw):
                continue
            segment = _to_segment(raw, index=first_index + len(kept), offset=offset)
            kept.append(segment)
            if on_segment is not None:
                on_segment(segment, _percent(segment.end, total))
    return Transcript(
        language=info.language,
        duration=offset + float(info.duration),
        segments=tuple(kept),
        model=name,
    )


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


def _to_segment(raw: Any, *, index: int, offset: float) -> Segment:
    """Our segment from faster-whisper's, with times shifted by `offset` seconds."""
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
        index=index,
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
