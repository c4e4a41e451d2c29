"""Transcripts: words, segments, options, and their txt/srt/vtt/json renderings.

These are the pure data a transcription produces and every face shows: the engine fills them,
the store keeps them as JSON, the API and CLI render them. Times are seconds from the start of
the audio, always absolute (a transcription resumed from a checkpoint offsets its times).
"""

from enum import StrEnum
from typing import Literal

import msgspec

from audiograb.domain.subtitles import cues_of

__all__ = [
    "Segment",
    "TranscribeOptions",
    "Transcript",
    "TranscriptFormat",
    "Word",
    "decode_transcript",
    "render",
]

_PARAGRAPH_PAUSE = 2.0
"""Seconds of silence between segments that start a new paragraph in plain text."""


class Word(msgspec.Struct, frozen=True, kw_only=True):
    """One recognised word with its timing and the model's confidence in it."""

    start: float
    end: float
    text: str
    probability: float | None = None


class Segment(msgspec.Struct, frozen=True, kw_only=True):
    """One stretch of recognised speech, usually a sentence or a clause."""

    index: int
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    avg_logprob: float | None = None
    no_speech_prob: float | None = None


class Transcript(msgspec.Struct, frozen=True, kw_only=True):
    """The result of transcribing one piece of audio."""

    language: str | None
    duration: float | None
    segments: tuple[Segment, ...]
    model: str | None = None
    language_probability: float | None = None
    """How sure the model was of `language` when it detected it; None when it was given."""

    @property
    def text(self) -> str:
        """All segment texts on one line, separated by single spaces."""
        return " ".join(t for t in (_one_line(s.text) for s in self.segments) if t)


class TranscriptFormat(StrEnum):
    """The formats a transcript can be rendered to."""

    TXT = "txt"
    SRT = "srt"
    VTT = "vtt"
    JSON = "json"


class TranscribeOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How to transcribe: what the CLI, the API and a job request may set.

    `language` None lets the model detect it; `task` "translate" renders speech in English;
    `model` is a model name (such as "tiny.en" or "large-v3") or a directory holding a
    CTranslate2 `model.bin`, None for the default (the bundled tiny.en); `device` and
    `compute_type` "auto" pick CUDA/float16 when a GPU is present, else CPU/int8.
    """

    language: str | None = None
    task: Literal["transcribe", "translate"] = "transcribe"
    beam_size: int = 5
    vad_filter: bool = True
    word_timestamps: bool = True
    initial_prompt: str | None = None
    model: str | None = None
    device: str = "auto"
    compute_type: str = "auto"


_JSON_ENCODER = msgspec.json.Encoder()
_JSON_DECODER = msgspec.json.Decoder(Transcript)


def decode_transcript(data: bytes | str) -> Transcript:
    """Read a transcript back from its JSON rendering (as stored with a job)."""
    return _JSON_DECODER.decode(data)


def render(transcript: Transcript, fmt: TranscriptFormat) -> str:
    """Render a transcript as plain text, SubRip, WebVTT or JSON."""
    match fmt:
        case TranscriptFormat.TXT:
            return _render_txt(transcript)
        case TranscriptFormat.SRT:
            return _render_cues(transcript, vtt=False)
        case TranscriptFormat.VTT:
            return _render_cues(transcript, vtt=True)
        case TranscriptFormat.JSON:
            return _JSON_ENCODER.encode(transcript).decode()


def _one_line(text: str) -> str:
    """Collapse all whitespace (newlines included) to single spaces."""
    return " ".join(text.split())


def _render_txt(transcript: Transcript) -> str:
    """Segment texts joined into paragraphs, a new one after each long pause."""
    paragraphs: list[list[str]] = []
    previous_end: float | None = None
    for segment in transcript.segments:
        text = _one_line(segment.text)
        if not text:
            continue
        pause = None if previous_end is None else segment.start - previous_end
        if not paragraphs or (pause is not None and pause >= _PARAGRAPH_PAUSE):
            paragraphs.append([])
        paragraphs[-1].append(text)
        previous_end = segment.end
    return "".join(" ".join(p) + "\n\n" for p in paragraphs).removesuffix("\n")


def _timestamp(seconds: float, separator: str) -> str:
    """Format seconds as HH:MM:SS<sep>mmm (rounded to the millisecond, never negative)."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _escaped(line: str) -> str:
    """WebVTT needs &, < and > escaped (and so never holds `-->`)."""
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _render_cues(transcript: Transcript, *, vtt: bool) -> str:
    """SubRip (numbered cues, comma before millis) or WebVTT (header, dot before millis) cues.

    Short segments are one cue each; long ones are cut into readable cues by their word
    timings (see `subtitles`). Empty segments are skipped; no cue ends before it starts.
    """
    separator = "." if vtt else ","
    blocks: list[str] = []
    for segment in transcript.segments:
        for cue in cues_of(segment.start, segment.end, _one_line(segment.text), segment.words):
            start = _timestamp(cue.start, separator)
            end = _timestamp(cue.end, separator)
            number = "" if vtt else f"{len(blocks) + 1}\n"
            text = "\n".join(_escaped(line) if vtt else line for line in cue.lines)
            blocks.append(f"{number}{start} --> {end}\n{text}\n")
    return ("WEBVTT\n\n" if vtt else "") + "\n".join(blocks)
