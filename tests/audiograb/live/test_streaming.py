"""The streaming engine with the real bundled tiny.en: partials, finals, filters, boundaries."""

import itertools
from pathlib import Path

import faster_whisper
import pytest

from audiograb.domain.errors import AudiograbError, ErrorCode
from audiograb.domain.transcript import Word
from audiograb.engines.whisper.streaming import (
    Final,
    Partial,
    StreamEvent,
    StreamingTranscriber,
    StreamOptions,
    collapse_loops,
    heard_words,
    without_echo,
)
from audiograb.engines.whisper.vad import SegmenterConfig
from tests.audiograb.live.conftest import clip_pcm, wav_pcm
from tests.wer import normalise, word_error_rate

FRAME = 3200  # 100 ms
FIRST_CLIP = "sense_and_sensibility_01_austen_64kb-0870"
FIRST_TEXT = (
    "and mister john dashwood had then leisure to consider how much there might be "
    "prudently in his power to do for them"
)
BROWSER_DATA = Path(__file__).parents[2] / "data" / "browser"


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


def timed(*spans: tuple[str, float, float]) -> list[Word]:
    return [Word(text=text, start=start, end=end) for text, start, end in spans]


def test_words_with_no_audio_beneath_are_dropped() -> None:
    looped = timed(("ill", 4.2, 4.38), ("disposed.", 4.38, 4.92), ("A", 5.08, 5.08))
    looped += timed(("less", 5.08, 5.08), ("to", 5.08, 5.08))
    assert [w.text for w in heard_words(looped)] == ["ill", "disposed."]
    middle = timed(("a", 1.0, 1.2), ("b", 1.2, 1.2), ("c", 1.2, 1.2), ("d", 1.2, 1.5))
    assert [w.text for w in heard_words(middle)] == ["a", "d"]
    one = timed(("a", 1.0, 1.2), ("b", 1.2, 1.2), ("c", 1.2, 1.5))
    assert heard_words(one) == one


def test_a_phrase_decoded_twice_is_said_once(tiny: faster_whisper.WhisperModel) -> None:
    """Audio that came through Chromium's microphone pipeline in a CI run, where this prompt
    made beam search decode the phrase twice and pile the copy up at the audio's end."""
    prompt = (
        "And Mr. John Dashwood had then leisure to consider how much there might be "
        "prudently in its power to do for them. He was not an old supposed young man."
    )
    engine = StreamingTranscriber(tiny, StreamOptions(prompt=prompt))
    events = run(engine, wav_pcm(BROWSER_DATA / "prompt_echo.wav"))
    [final] = [e for e in events if isinstance(e, Final)]
    reference = "unless to be rather cold hearted and rather selfish is to be ill disposed"
    assert word_error_rate(reference, final.text) < 0.15
    assert [normalise(w.text) for w in final.words] == normalise(final.text).split()


@pytest.mark.parametrize(
    ("said", "kept"),
    [
        (" both memory and mood. mood.", " both memory and mood."),
        (" he went home. went home.", " he went home."),
        (" no, no", " no, no"),  # not after the end of a sentence: kept
        (" it is what it is", " it is what it is"),
        (" Yes.", " Yes."),
    ],
)
def test_an_echoed_ending_is_dropped(said: str, kept: str) -> None:
    words = [Word(text=f" {w}", start=i, end=i + 0.5) for i, w in enumerate(said.split())]
    assert "".join(w.text for w in without_echo(words)) == kept
