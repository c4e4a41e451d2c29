"""The streaming engine with the real bundled tiny.en: partials, finals, filters, boundaries."""

import itertools

import faster_whisper
import pytest

from audiograb.domain.errors import AudiograbError, ErrorCode
from audiograb.engines.whisper.streaming import (
    Final,
    Partial,
    StreamEvent,
    StreamingTranscriber,
    StreamOptions,
    collapse_loops,
)
from audiograb.engines.whisper.vad import SegmenterConfig
from tests.audiograb.live.conftest import clip_pcm
from tests.wer import normalise, word_error_rate

FRAME = 3200  # 100 ms
FIRST_CLIP = "sense_and_sensibility_01_austen_64kb-0870"
FIRST_TEXT = (
    "and mister john dashwood had then leisure to consider how much there might be "
    "prudently in his power to do for them"
)


def run(engine: StreamingTranscriber, pcm: bytes, *, partials: bool = True) -> list[StreamEvent]:
    """Feed `pcm` in 100 ms frames, decoding whatever is due after each, then finish."""
    events: list[StreamEvent] = []
    for offset in range(0, len(pcm), FRAME):
        engine.accept(pcm[offset : offset + FRAME])
        while engine.final_due or (partials and engine.partial_due):
            events += engine.step(allow_partial=partials)
    return events + engine.finish()


def identity(word: str) -> str:
    return word


@pytest.mark.parametrize(
    ("words", "kept"),
    [
        ("the the the the cat", "the cat"),
        ("no no no", "no no no"),  # said three times: kept
        ("I'm going I'm going I'm going home", "I'm going home"),
        (
            "he might even have been made amiable he might even have been made amiable",
            "he might even have been made amiable",
        ),
        ("x a b c a b c", "x a b c a b c"),  # three words twice: could be speech
        (
            "he might even have been made amiable he might even have",
            "he might even have been made amiable",
        ),
        ("so so it goes", "so so it goes"),
        ("", ""),
    ],
)
def test_loops_are_kept_once(words: str, kept: str) -> None:
    assert " ".join(collapse_loops(words.split(), identity)) == kept


def test_one_clip_gives_stable_partials_then_one_final_with_words(
    tiny: faster_whisper.WhisperModel,
) -> None:
    pcm = clip_pcm(FIRST_CLIP) + bytes(16000)  # and half a second of silence
    events = run(StreamingTranscriber(tiny, StreamOptions()), pcm)
    partials = [e for e in events if isinstance(e, Partial)]
    finals = [e for e in events if isinstance(e, Final)]
    assert len(partials) >= 3
    assert {p.utterance for p in partials} == {0}
    stable_lengths = [len(p.stable.split()) for p in partials]
    assert stable_lengths == sorted(stable_lengths)  # settled words stay settled
    [final] = finals
    assert events[-1] is final
    assert word_error_rate(FIRST_TEXT, final.text) < 0.15
    assert [normalise(w.text) for w in final.words] == normalise(final.text).split()
    starts = [w.start for w in final.words]
    assert starts == sorted(starts)
    assert 0 <= final.start < 0.5
    assert final.end == pytest.approx(7.0, abs=0.6)


def test_without_partials_only_finals_come(tiny: faster_whisper.WhisperModel) -> None:
    events = run(StreamingTranscriber(tiny, StreamOptions()), clip_pcm(FIRST_CLIP), partials=False)
    assert [type(e) for e in events] == [Final]


def test_silence_and_noise_give_nothing(tiny: faster_whisper.WhisperModel) -> None:
    hiss = b"\x10\x00\xf0\xff" * 8000 * 2
    engine = StreamingTranscriber(tiny, StreamOptions())
    assert run(engine, bytes(32000 * 3) + hiss) == []
    assert engine.text == ""
    assert engine.settled == engine.received


def test_cut_utterances_never_double_a_word(tiny: faster_whisper.WhisperModel) -> None:
    options = StreamOptions(segmenter=SegmenterConfig(max_utterance=3.0, cut_search=1.5))
    engine = StreamingTranscriber(tiny, options)
    finals = [e for e in run(engine, clip_pcm(FIRST_CLIP)) if isinstance(e, Final)]
    assert len(finals) >= 2
    assert word_error_rate(FIRST_TEXT, engine.text) < 0.25
    words = normalise(engine.text).split()
    doubled = [a for a, b in itertools.pairwise(words) if a == b]
    assert doubled == []


def test_an_english_only_model_refuses_another_language(tiny: faster_whisper.WhisperModel) -> None:
    with pytest.raises(AudiograbError) as raised:
        StreamingTranscriber(tiny, StreamOptions(language="de"))
    assert raised.value.code is ErrorCode.INVALID_REQUEST
