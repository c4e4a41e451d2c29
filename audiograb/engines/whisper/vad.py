"""Streaming voice activity detection with the Silero model that ships inside faster-whisper.

`SileroVad` runs the ONNX model window by window (512 samples at 16 kHz, 32 ms), carrying its
recurrent state and 64 samples of context from one call to the next, so feeding audio in any
slices gives the same probabilities as faster-whisper's offline pass over the whole signal.

`SpeechSegmenter` turns those probabilities into utterances with hysteresis: speech starts
at a window at or above `threshold` (a little audio before it is kept, so the first syllable is
not clipped) and ends once the probability has stayed below `neg_threshold` for
`min_silence` seconds. An utterance that grows past `max_utterance` seconds is cut at the
quietest window of its last seconds, which is almost always a gap between two words, and the
next utterance continues from exactly there: no audio is dropped or counted twice.
"""

from collections import deque
from collections.abc import Iterator
from typing import Any

import msgspec
import numpy as np
from faster_whisper.vad import get_vad_model

__all__ = ["SAMPLE_RATE", "WINDOW", "SegmenterConfig", "SileroVad", "SpeechSegmenter", "Utterance"]

SAMPLE_RATE = 16_000
WINDOW = 512
"""Samples per VAD window (32 ms): the size the Silero model takes at 16 kHz."""
_CONTEXT = 64
_STATE_SHAPE = (1, 1, 128)

Samples = np.ndarray[Any, np.dtype[np.float32]]


class SileroVad:
    """Speech probability per 32 ms window of a stream, fed in slices of any length."""

    def __init__(self) -> None:
        # One ONNX session per process (faster-whisper caches it); `run` is thread-safe and
        # the per-stream state lives here.
        self._session = get_vad_model().session
        self._h = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._c = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._context = np.zeros(_CONTEXT, dtype=np.float32)
        self._rest = np.zeros(0, dtype=np.float32)

    def __call__(self, samples: Samples) -> Samples:
        """Probabilities for every window completed by `samples` (leftovers wait for more)."""
        pending = np.concatenate((self._rest, samples)) if len(self._rest) else samples
        count = len(pending) // WINDOW
        self._rest = pending[count * WINDOW :].copy()
        if count == 0:
            return np.zeros(0, dtype=np.float32)
        windows = pending[: count * WINDOW].reshape(count, WINDOW)
        contexts = np.vstack((self._context[None, :], windows[:-1, -_CONTEXT:]))
        self._context = windows[-1, -_CONTEXT:].copy()
        batch = np.concatenate((contexts, windows), axis=1).astype(np.float32, copy=False)
        out, self._h, self._c = self._session.run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        return np.asarray(out, dtype=np.float32).reshape(-1)


class SegmenterConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How speech is cut into utterances (seconds, and Silero probabilities)."""

    threshold: float = 0.5
    neg_threshold: float = 0.35
    min_silence: float = 0.3
    """Silence that ends an utterance: the main term of end-of-utterance latency."""
    pre_roll: float = 0.2
    """Audio kept before the first speech window."""
    post_roll: float = 0.1
    """Audio kept after the last speech window (when it has arrived)."""
    min_speech: float = 0.25
    """Utterances with less speech than this are clicks and breaths: dropped undecoded."""
    max_utterance: float = 15.0
    cut_search: float = 3.0
    """A forced cut looks for the quietest window in this many final seconds."""


class Utterance(msgspec.Struct, frozen=True, kw_only=True):
    """A stretch of speech on the stream's sample clock: `[start, end)`."""

    start: int
    end: int
    speech: int
    """Samples of the utterance the VAD judged to be speech."""
    forced: bool = False
    """Cut at `max_utterance` rather than ended by silence (the next one continues it)."""


class SpeechSegmenter:
    """Cuts a stream into utterances from VAD probabilities, as the audio arrives."""

    def __init__(self, config: SegmenterConfig | None = None) -> None:
        self.config = config or SegmenterConfig()
        self._vad = SileroVad()
        self._position = 0
        """Samples whose window the VAD has scored."""
        self._received = 0
        self._start: int | None = None
        self._last_voice = 0
        self._speech = 0
        self._recent: deque[tuple[int, float]] = deque(
            maxlen=max(1, round(self.config.cut_search * SAMPLE_RATE / WINDOW))
        )

    @property
    def current_start(self) -> int | None:
        """Where the utterance being spoken started, or None between utterances."""
        return self._start

    @property
    def current_speech(self) -> float:
        """Seconds of speech in the utterance being spoken."""
        return self._speech / SAMPLE_RATE if self._start is not None else 0.0

    def keep_from(self) -> int:
        """The earliest sample a later utterance may still need."""
        if self._start is not None:
            return self._start
        return max(0, self._position - self._samples(self.config.pre_roll))

    def push(self, samples: Samples) -> Iterator[Utterance]:
        """Score `samples` and yield every utterance they complete."""
        self._received += len(samples)
        for probability in self._vad(samples):
            window_start = self._position
            self._position += WINDOW
            yield from self._step(window_start, float(probability))

    def flush(self) -> Iterator[Utterance]:
        """End the stream: the utterance being spoken, if any, ends with the audio."""
        if self._start is not None:
            yield from self._close(self._received, forced=False)

    def _step(self, window_start: int, probability: float) -> Iterator[Utterance]:
        config = self.config
        if self._start is None:
            if probability >= config.threshold:
                self._start = max(0, window_start - self._samples(config.pre_roll))
                self._last_voice = self._position
                self._speech = WINDOW
                self._recent.clear()
            return
        self._recent.append((window_start, probability))
        if probability >= config.threshold:
            self._last_voice = self._position
            self._speech += WINDOW
        elif (
            probability < config.neg_threshold
            and self._position - self._last_voice >= self._samples(config.min_silence)
        ):
            end = min(self._position, self._last_voice + self._samples(config.post_roll))
            yield from self._close(end, forced=False)
            return
        if self._position - self._start >= self._samples(config.max_utterance):
            yield from self._cut()

    def _cut(self) -> Iterator[Utterance]:
        """Split an over-long utterance at its quietest recent window; speech goes on."""
        cut, _ = min(self._recent, key=lambda item: item[1])
        speech_after = sum(
            WINDOW for start, p in self._recent if start >= cut and p >= self.config.threshold
        )
        self._speech -= speech_after
        yield from self._close(cut, forced=True)
        self._start = cut
        self._speech = speech_after
        self._recent.clear()

    def _close(self, end: int, *, forced: bool) -> Iterator[Utterance]:
        start, speech = self._start, self._speech
        self._start = None
        self._speech = 0
        if start is not None and (forced or speech >= self._samples(self.config.min_speech)):
            yield Utterance(start=start, end=end, speech=speech, forced=forced)

    @staticmethod
    def _samples(seconds: float) -> int:
        return round(seconds * SAMPLE_RATE)
