"""Streaming Silero VAD and the utterance segmenter, on real speech and made-up probabilities."""

import itertools

import numpy as np
import pytest
from faster_whisper.vad import get_vad_model

from audiograb.engines.whisper.vad import (
    SAMPLE_RATE,
    WINDOW,
    SegmenterConfig,
    SileroVad,
    SpeechSegmenter,
    Utterance,
)


def floats(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def test_streaming_probabilities_equal_faster_whispers_offline_pass(speech_pcm: bytes) -> None:
    audio = floats(speech_pcm)[: 10 * SAMPLE_RATE]
    offline = get_vad_model()(audio[: len(audio) // WINDOW * WINDOW].copy()).reshape(-1)
    vad = SileroVad()
    sizes = np.random.default_rng(7).integers(1, 4000, size=1000)
    parts, at = [], 0
    for size in sizes:
        parts.append(vad(audio[at : at + size]))
        at += size
        if at >= len(audio):
            break
    streamed = np.concatenate(parts)
    assert len(streamed) == len(offline)
    assert np.abs(streamed - offline).max() < 0.02


def test_the_clips_become_one_utterance_each(speech_pcm: bytes) -> None:
    audio = floats(speech_pcm)
    segmenter = SpeechSegmenter()
    utterances: list[Utterance] = []
    for at in range(0, len(audio), 1600):
        utterances += segmenter.push(audio[at : at + 1600])
    utterances += segmenter.flush()
    assert len(utterances) == 5
    for previous, utterance in itertools.pairwise(utterances):
        assert previous.end <= utterance.start
    assert not any(u.forced for u in utterances)


def test_silence_is_no_utterance() -> None:
    segmenter = SpeechSegmenter()
    quiet = np.zeros(5 * SAMPLE_RATE, dtype=np.float32)
    assert [*segmenter.push(quiet), *segmenter.flush()] == []


class Scripted(SpeechSegmenter):
    """A segmenter fed probabilities instead of audio."""

    def feed(self, probabilities: list[float]) -> list[Utterance]:
        out: list[Utterance] = []
        for probability in probabilities:
            start = self._position
            self._position += WINDOW
            self._received += WINDOW
            out += self._step(start, probability)
        return out


def seconds(value: float) -> int:
    return round(value * SAMPLE_RATE / WINDOW)


def test_an_utterance_ends_after_the_configured_silence_with_pre_and_post_roll() -> None:
    segmenter = Scripted(SegmenterConfig(min_silence=0.3, pre_roll=0.2, post_roll=0.1))
    probabilities = [0.0] * seconds(1) + [0.9] * seconds(1) + [0.1] * seconds(0.29)
    assert segmenter.feed(probabilities) == []
    [utterance] = segmenter.feed([0.1] * 2)
    speech_start = seconds(1) * WINDOW
    speech_end = seconds(2) * WINDOW
    assert utterance.start == speech_start - round(0.2 * SAMPLE_RATE)
    assert utterance.end == speech_end + round(0.1 * SAMPLE_RATE)
    assert utterance.speech == seconds(1) * WINDOW


def test_a_blip_shorter_than_min_speech_is_dropped() -> None:
    segmenter = Scripted(SegmenterConfig(min_speech=0.25))
    assert segmenter.feed([0.9] * 3 + [0.0] * seconds(1)) == []


def test_a_long_utterance_is_cut_at_its_quietest_window_and_goes_on_from_there() -> None:
    config = SegmenterConfig(max_utterance=4.0, cut_search=2.0)
    segmenter = Scripted(config)
    dip = seconds(3)  # a breath between words, inside the last two seconds
    probabilities = [0.9] * seconds(4)
    probabilities[dip] = 0.4
    [cut] = segmenter.feed(probabilities)
    assert cut.forced
    assert cut.end == dip * WINDOW
    assert segmenter.current_start == cut.end  # no audio dropped or counted twice
    [rest] = segmenter.feed([0.0] * seconds(1))
    assert (rest.start, rest.forced) == (cut.end, False)


@pytest.mark.parametrize("threshold", [0.5, 0.7])
def test_hysteresis_between_the_thresholds_does_not_end_speech(threshold: float) -> None:
    segmenter = Scripted(SegmenterConfig(threshold=threshold, neg_threshold=0.35))
    out = segmenter.feed([0.9] * seconds(1) + [0.4] * seconds(2))
    assert out == []
    assert segmenter.current_start is not None
