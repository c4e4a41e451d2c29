"""Live transcription of an audio stream: VAD-cut utterances, stable partials, one final each.

The usual way to stream Whisper is to re-transcribe a growing buffer every second and commit
what two passes agree on (LocalAgreement). This engine does less work for a faster answer:

* Silero VAD (`vad.SpeechSegmenter`) cuts the stream into utterances as the audio arrives.
* While an utterance grows, it is decoded every `partial_interval` seconds of new audio
  (greedy, no word timings) for a `Partial`: the words two consecutive passes agree on are
  `stable`, the rest an `unstable` tail. Partials are a courtesy: the caller skips them
  (`allow_partial=False`) whenever it is behind, so under load they thin out first.
* Once the VAD has heard `min_silence` of silence (or the utterance reached its maximum
  length), the utterance gets exactly one `Final` decode (beam search, word timings). Its
  audio is disjoint from every other utterance's, so no word is ever emitted twice.
* Whisper pads every input to 30 s and its encoder cost follows: encoding 30 s takes ~0.4 s
  for `tiny.en` on two cores. CTranslate2 accepts a shorter encoder input, so an utterance is
  encoded with only its own length plus one second of padding (~0.03 s for 5 s of audio),
  which keeps the same accuracy on speech of up to 30 s.
* Committed text feeds a rolling prompt. Silence yields no text: utterances are only decoded
  when the VAD heard speech, and decodes that look like hallucinations (whisper's own
  no-speech rule, the phrases tiny models invent on noise, repeated n-gram loops) are dropped.

Everything here is synchronous and not thread-safe: one stream, one thread at a time.
"""

import math
import re
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

import faster_whisper
import msgspec
import numpy as np
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import get_suppressed_tokens, merge_punctuations

from audiograb.domain.errors import AudiograbError, ErrorCode
from audiograb.domain.transcript import Word
from audiograb.engines.whisper.vad import SAMPLE_RATE, SegmenterConfig, SpeechSegmenter, Utterance

__all__ = [
    "Final",
    "Partial",
    "StreamEvent",
    "StreamOptions",
    "StreamingTranscriber",
    "collapse_loops",
    "heard_words",
    "without_echo",
]

T = TypeVar("T")
Samples = np.ndarray[Any, np.dtype[np.float32]]

_PAD_SAMPLES = SAMPLE_RATE
"""Silence added after the audio before encoding: one second of context."""
_HOP = 160
"""Samples per mel frame."""
_MAX_FRAMES = 3000
_MAX_TOKENS = 448
_TOKENS_PER_SECOND = 8
"""Room for fast speech (about 5 tokens a second), not for long hallucinated loops."""
_PROMPT_CHARS = 200
_PREPEND_PUNCTUATION = "\"'“¿([{-"
_APPEND_PUNCTUATION = "\"'.。,，!！?？:：”)]}、"
# Whisper's own hallucination rule, as the file engine applies it: probably not speech and
# decoded with low confidence (or every word doubted).
_NO_SPEECH_THRESHOLD = 0.6
_LOGPROB_THRESHOLD = -1.0
_WORD_DOUBT_THRESHOLD = 0.3
# What tiny Whisper models say over noise and silence (trained on subtitled video). Dropped
# when the decode is not confident; said clearly, they are kept.
_SILENCE_PHRASES = frozenset(
    {
        "you",
        "thank you",
        "thanks",
        "thanks for watching",
        "thank you for watching",
        "thank you so much for watching",
        "please subscribe",
        "bye",
        "bye bye",
        "so",
        "okay",
        "oh",
        "uh",
        "um",
        "hmm",
    }
)
_DOUBTFUL_PHRASE_NO_SPEECH = 0.2
_DOUBTFUL_PHRASE_LOGPROB = -0.5
_TRUNCATION_GAP = 0.6
"""Seconds of audio after a final's last word that suggest the decode stopped too early."""
_REPEAT_CHECK = 3
"""Words at a forced cut checked for having been decoded on both sides of it."""
_REPEAT_WINDOW = 0.3
"""Seconds after a forced cut where a repeated word counts as decoded twice."""
_MIN_RESTART = 3
"""Fewest words of a tail that repeats the utterance's start to count as a restart."""
_MAX_LOOP = 12
"""Longest unit (in words) `collapse_loops` looks for."""
_MAX_ECHO = 3
"""Longest utterance ending (in words) `without_echo` drops for repeating what came before."""
_UNHEARD = 0.01
"""Seconds: a word aligned to less audio than this (half a frame) has none beneath it."""
_NOT_WORD = re.compile(r"[^\w']+")


class StreamOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How to transcribe one live stream."""

    language: str | None = None
    """A language code; None: English for `.en` models, else detected on the first speech."""
    prompt: str | None = None
    """Names, jargon, spelling: put before the rolling prompt of committed text."""
    beam_size: int = 5
    """Beam width of final decodes (partials are greedy)."""
    partial_interval: float = 0.6
    """Seconds of new audio between two partial decodes of a growing utterance."""
    min_partial_speech: float = 0.5
    """Seconds of speech an utterance needs before its first partial."""
    segmenter: SegmenterConfig = msgspec.field(default_factory=SegmenterConfig)


class Partial(msgspec.Struct, frozen=True, kw_only=True, tag="partial", tag_field="type"):
    """The utterance being spoken, so far: `stable` words are settled, `unstable` may change."""

    utterance: int
    stable: str
    unstable: str


class Final(msgspec.Struct, frozen=True, kw_only=True, tag="final", tag_field="type"):
    """An utterance's one and only transcript; times are seconds on the stream's audio clock.

    `text` is empty only when earlier partials showed words the final decode judged to be
    noise: it tells a client to clear them.
    """

    utterance: int
    text: str
    start: float
    end: float
    words: tuple[Word, ...] = ()


StreamEvent = Partial | Final


class _Decoded(NamedTuple):
    text: str
    words: list[Word]
    avg_logprob: float
    no_speech_prob: float


class _Pending(NamedTuple):
    """An ended utterance waiting for its final decode."""

    id: int
    utterance: Utterance
    audio: Samples


class _Audio:
    """The stream's recent audio as chunks on the sample clock, dropped once not needed."""

    def __init__(self) -> None:
        self._chunks: deque[tuple[int, Samples]] = deque()
        self.end = 0

    def append(self, samples: Samples) -> None:
        self._chunks.append((self.end, samples))
        self.end += len(samples)

    def slice(self, start: int, end: int) -> Samples:
        parts = [
            chunk[max(0, start - at) : max(0, end - at)]
            for at, chunk in self._chunks
            if at < end and at + len(chunk) > start
        ]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def trim(self, keep_from: int) -> None:
        while self._chunks and self._chunks[0][0] + len(self._chunks[0][1]) <= keep_from:
            self._chunks.popleft()


class _Decoder:
    """Whisper decodes of short audio, with an encoder input only as long as the audio."""

    def __init__(self, model: faster_whisper.WhisperModel, language: str | None) -> None:
        self._model = model
        multilingual = bool(model.model.is_multilingual)
        if not multilingual and language not in (None, "en"):
            raise AudiograbError(
                ErrorCode.INVALID_REQUEST,
                f"this model is English-only; it cannot transcribe {language!r}",
            )
        self._multilingual = multilingual
        self._tokenizer: Tokenizer | None = None
        if language is not None or not multilingual:
            self._tokenizer = self._make_tokenizer(language or "en")

    def _make_tokenizer(self, language: str) -> Tokenizer:
        return Tokenizer(
            self._model.hf_tokenizer, self._multilingual, task="transcribe", language=language
        )

    def decode(self, audio: Samples, prompt: str, *, beam_size: int, words: bool) -> _Decoded:
        model = self._model
        # Whisper was trained on audio padded with silence: pad the audio, not the features.
        padded_audio = np.concatenate((audio, np.zeros(_PAD_SAMPLES, dtype=np.float32)))
        features = model.feature_extractor(padded_audio)[:, :_MAX_FRAMES]
        frames = min(len(audio) // _HOP, _MAX_FRAMES)
        width = min(_MAX_FRAMES, math.ceil(features.shape[-1] / 100) * 100)
        padded = np.zeros((features.shape[0], width), dtype=np.float32)
        padded[:, : features.shape[-1]] = features
        encoded = model.encode(padded)
        tokenizer = self._tokenizer or self._detect(encoded)
        previous = tokenizer.encode(" " + prompt.strip()) if prompt.strip() else []
        sequence = model.get_prompt(tokenizer, previous, without_timestamps=True)
        seconds = len(audio) / SAMPLE_RATE
        result = model.model.generate(
            encoded,
            [sequence],
            beam_size=beam_size,
            max_length=min(_MAX_TOKENS, len(sequence) + 10 + int(_TOKENS_PER_SECOND * seconds)),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        avg_logprob = float(result.scores[0]) * len(tokens) / (len(tokens) + 1)
        if words and tokens:
            aligned = heard_words(self._words(tokenizer, tokens, encoded, frames))
            text = "".join(w.text for w in aligned).strip()
        else:
            aligned, text = [], tokenizer.decode(tokens).strip()
        return _Decoded(
            text=text,
            words=aligned,
            avg_logprob=avg_logprob,
            no_speech_prob=float(result.no_speech_prob),
        )

    def _detect(self, encoded: Any) -> Tokenizer:
        """Detect the language once, from the first audio decoded, and keep it."""
        token, _probability = self._model.model.detect_language(encoded)[0][0]
        self._tokenizer = self._make_tokenizer(token[2:-2])
        return self._tokenizer

    def _words(
        self, tokenizer: Tokenizer, tokens: list[int], encoded: Any, frames: int
    ) -> list[Word]:
        """Aligned words, their text as whisper spaced it (" cold", "-hearted"), so that
        joining them gives back the decoded text."""
        alignment = self._model.find_alignment(tokenizer, [tokens], encoded, frames)[0]
        merge_punctuations(alignment, _PREPEND_PUNCTUATION, _APPEND_PUNCTUATION)
        return [
            Word(
                start=float(w["start"]),
                end=float(w["end"]),
                text=w["word"],
                probability=float(w["probability"]),
            )
            for w in alignment
            if w["word"].strip()
        ]


def _normal(text: str) -> str:
    """A word or phrase as compared: lower case, punctuation gone."""
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


def collapse_loops(items: Sequence[T], key: Callable[[T], str]) -> list[T]:
    """Keep one copy of a run of items said over and over: a word four times or more in a
    row, two or three words three times, a phrase of four to twelve words twice; and drop a
    tail of three words or more that starts the utterance over ("He might even have been
    made amiable himself. He might even have").

    Whisper's failure mode is a loop ("the the the the", or the whole utterance twice, which
    a rolling prompt provokes in tiny models); a loop is kept once, as it was most likely
    said once. Real speech repeats single words ("no, no, no") but rarely whole phrases.
    """
    keys = [key(item) for item in items]
    for restart in range(_MIN_RESTART, len(keys) - _MIN_RESTART + 1):
        tail = keys[restart:]
        if keys[: len(tail)] == tail:  # the utterance starts over at its end: a prompt echo
            items, keys = items[:restart], keys[:restart]
            break
    kept: list[T] = []
    i = 0
    while i < len(items):
        loop = _loop_at(keys, i)
        if loop is None:
            kept.append(items[i])
            i += 1
        else:
            size, count = loop
            kept.extend(items[i : i + size])
            i += size * count
    return kept


def _loop_at(keys: Sequence[str], i: int) -> tuple[int, int] | None:
    """(unit size, repeat count) of a loop starting at `i`, if one does."""
    for size in range(1, _MAX_LOOP + 1):
        unit = keys[i : i + size]
        if len(unit) < size:
            return None
        count = 1
        while keys[i + count * size : i + (count + 1) * size] == unit:
            count += 1
        if count >= (4 if size == 1 else 3 if size < 4 else 2):
            return size, count
    return None


def heard_words(words: Sequence[Word]) -> list[Word]:
    """`words` without the text that has no audio beneath it.

    Given audio that holds less than it decoded (most often a phrase said once and decoded
    twice, a loop that the rolling prompt provokes in tiny models), whisper's alignment piles
    the extra words up at the audio's end with no duration. Real words cover at least one
    20 ms frame, so a run of two or more words without duration, or any at the very end, is
    text the audio does not hold; a single one between heard words is kept.
    """
    kept: list[Word] = []
    unheard: list[Word] = []
    for word in words:
        if word.end - word.start < _UNHEARD:
            unheard.append(word)
            continue
        if len(unheard) == 1:
            kept.extend(unheard)
        unheard = []
        kept.append(word)
    return kept


def without_echo(words: list[Word]) -> list[Word]:
    """`words` without a last one to three words that repeat the ones just before them after
    the end of a sentence ("… both memory and mood. mood."): whisper's echo at the end of an
    utterance, which real speech seldom makes."""
    keys = [_normal(w.text) for w in words]
    for size in range(1, _MAX_ECHO + 1):
        said, echo = keys[-2 * size : -size], keys[-size:]
        if len(said) == size and said == echo and words[-size - 1].text.rstrip()[-1:] in ".?!":
            return words[:-size]
    return words


def _is_hallucination(decoded: _Decoded) -> bool:
    """Whisper's no-speech rule, or a stock silence phrase decoded without confidence."""
    if not decoded.text:
        return True
    if decoded.no_speech_prob > _NO_SPEECH_THRESHOLD:
        doubted = bool(decoded.words) and all(
            (w.probability or 0.0) < _WORD_DOUBT_THRESHOLD for w in decoded.words
        )
        if decoded.avg_logprob < _LOGPROB_THRESHOLD or doubted:
            return True
    return _normal(decoded.text) in _SILENCE_PHRASES and (
        decoded.no_speech_prob > _DOUBTFUL_PHRASE_NO_SPEECH
        or decoded.avg_logprob < _DOUBTFUL_PHRASE_LOGPROB
    )


class StreamingTranscriber:
    """One live stream: feed PCM16 with `accept`, call `step` for events, `finish` at the end."""

    def __init__(self, model: faster_whisper.WhisperModel, options: StreamOptions) -> None:
        self.options = options
        self._decoder = _Decoder(model, options.language)
        self._segmenter = SpeechSegmenter(options.segmenter)
        self._audio = _Audio()
        self._pending: deque[_Pending] = deque()
        self._closed = 0
        """Utterances ended so far: the id of the one being spoken."""
        self._committed: list[str] = []
        self._tail = ""
        """The end of the committed text: the rolling prompt."""
        self._last_words: list[str] = []
        self._after_forced_cut = False
        self._partial_id = -1
        self._partial_at = 0
        self._previous_pass: list[str] = []
        self._stable: list[str] = []

    @property
    def received(self) -> int:
        """Samples accepted so far (the stream's audio clock, at 16 kHz)."""
        return self._audio.end

    @property
    def settled(self) -> int:
        """Samples whose finals are all out: the start of the lag."""
        return self._pending[0].utterance.end if self._pending else self._audio.end

    @property
    def text(self) -> str:
        """Everything committed so far, one line."""
        return " ".join(self._committed)

    @property
    def final_due(self) -> bool:
        """An utterance has ended and waits for its final decode."""
        return bool(self._pending)

    @property
    def partial_due(self) -> bool:
        """The utterance being spoken has grown enough since its last partial."""
        start = self._segmenter.current_start
        if start is None or self._segmenter.current_speech < self.options.min_partial_speech:
            return False
        since = self._partial_at if self._partial_id == self._closed else start
        return self._audio.end - since >= self.options.partial_interval * SAMPLE_RATE

    def accept(self, pcm16: bytes) -> None:
        """Take little-endian 16-bit mono samples at 16 kHz; cheap (VAD only)."""
        samples = np.frombuffer(pcm16, dtype="<i2").astype(np.float32) / 32768.0
        self._audio.append(samples)
        for utterance in self._segmenter.push(samples):
            self._end(utterance)
        self._audio.trim(
            min([self._segmenter.keep_from(), *(p.utterance.start for p in self._pending)])
        )

    def step(self, *, allow_partial: bool = True) -> list[StreamEvent]:
        """Do the most urgent decode, if any: a due final first, else (if allowed) a partial."""
        if self._pending:
            return self._finalise(self._pending.popleft())
        if allow_partial and self.partial_due:
            return self._partial()
        return []

    def finish(self) -> list[StreamEvent]:
        """End of stream: the utterance being spoken ends too; every final left, in order."""
        for utterance in self._segmenter.flush():
            self._end(utterance)
        events: list[StreamEvent] = []
        while self._pending:
            events.extend(self._finalise(self._pending.popleft()))
        return events

    def _end(self, utterance: Utterance) -> None:
        audio = self._audio.slice(utterance.start, utterance.end)
        self._pending.append(_Pending(self._closed, utterance, audio))
        self._closed += 1

    def _commit(self, text: str, words: list[Word]) -> None:
        self._committed.append(text)
        self._last_words = [_normal(w.text) for w in words[-_REPEAT_CHECK:]]
        tail = f"{self._tail} {text}".strip()
        if len(tail) > _PROMPT_CHARS:
            tail = tail[-_PROMPT_CHARS:].partition(" ")[2]
        self._tail = tail

    def _prompt(self) -> str:
        return " ".join(p for p in (self.options.prompt, self._tail) if p)

    def _partial(self) -> list[StreamEvent]:
        start = self._segmenter.current_start
        assert start is not None
        if self._partial_id != self._closed:
            self._partial_id, self._previous_pass, self._stable = self._closed, [], []
        self._partial_at = self._audio.end
        decoded = self._decoder.decode(
            self._audio.slice(start, self._audio.end), self._prompt(), beam_size=1, words=False
        )
        if _is_hallucination(decoded):
            return []
        words = collapse_loops(decoded.text.split(), _normal)
        agreed = 0
        for mine, theirs in zip(words, self._previous_pass, strict=False):
            if _normal(mine) != _normal(theirs):
                break
            agreed += 1
        if agreed > len(self._stable):
            self._stable = words[:agreed]
        self._previous_pass = words
        return [
            Partial(
                utterance=self._closed,
                stable=" ".join(self._stable),
                unstable=" ".join(words[len(self._stable) :]),
            )
        ]

    def _finalise(self, pending: _Pending) -> list[StreamEvent]:
        utterance = pending.utterance
        decoded = self._decode_final(pending.audio)
        shown = self._partial_id == pending.id
        after_cut, self._after_forced_cut = self._after_forced_cut, utterance.forced
        words: list[Word] = []
        if not _is_hallucination(decoded):
            words = without_echo(collapse_loops(decoded.words, lambda w: _normal(w.text)))
            if after_cut:
                words = self._without_repeat(words)
        text = "".join(w.text for w in words).strip()
        if not text and not shown:
            return []
        if text:
            self._commit(text, words)
        offset = utterance.start / SAMPLE_RATE
        placed = tuple(
            Word(
                start=round(w.start + offset, 3),
                end=round(w.end + offset, 3),
                text=w.text.strip(),
                probability=w.probability,
            )
            for w in words
        )
        start = placed[0].start if placed else round(offset, 3)
        end = placed[-1].end if placed else round(utterance.end / SAMPLE_RATE, 3)
        return [
            Final(
                utterance=pending.id,
                text=text,
                start=start,
                end=max(start, end),
                words=placed,
            )
        ]

    def _decode_final(self, audio: Samples) -> _Decoded:
        """Beam search, unless it stopped well short of the audio's end (with a prompt, beam
        search sometimes prefers ending early): then a greedy decode, if that says more."""
        prompt = self._prompt()
        beam = self.options.beam_size
        decoded = self._decoder.decode(audio, prompt, beam_size=beam, words=True)
        unheard = len(audio) / SAMPLE_RATE - (decoded.words[-1].end if decoded.words else 0.0)
        if beam == 1 or unheard < _TRUNCATION_GAP:
            return decoded
        greedy = self._decoder.decode(audio, prompt, beam_size=1, words=True)
        return greedy if len(greedy.words) > len(decoded.words) else decoded

    def _without_repeat(self, words: list[Word]) -> list[Word]:
        """After a forced cut, drop leading words that repeat the previous final's last ones.

        `words` are on the utterance's clock: the cut is at 0."""
        for size in range(min(_REPEAT_CHECK, len(words), len(self._last_words)), 0, -1):
            head = [_normal(w.text) for w in words[:size]]
            if head == self._last_words[-size:] and words[0].start < _REPEAT_WINDOW:
                return words[size:]
        return words
