"""Transcript types and their txt, srt, vtt and json renderings."""

import itertools

import msgspec
import pytest

from audiograb.domain.transcript import (
    Segment,
    TranscribeOptions,
    Transcript,
    TranscriptFormat,
    Word,
    decode_transcript,
    render,
)


def make(*segments: tuple[float, float, str]) -> Transcript:
    return Transcript(
        language="en",
        duration=4000.0,
        segments=tuple(
            Segment(index=i, start=start, end=end, text=text)
            for i, (start, end, text) in enumerate(segments)
        ),
    )


SRT, VTT = TranscriptFormat.SRT, TranscriptFormat.VTT
SAMPLE = make((0.0, 1.5, " Hello there."), (1.5, 3.25, "How are you?"), (6.0, 7.0, "Fine."))


def test_text_joins_segments_on_one_line() -> None:
    assert SAMPLE.text == "Hello there. How are you? Fine."
    assert make((0, 1, "  "), (1, 2, "a\nb")).text == "a b"


def test_txt_starts_a_paragraph_after_a_long_pause() -> None:
    assert render(SAMPLE, TranscriptFormat.TXT) == "Hello there. How are you?\n\nFine.\n"
    assert render(make(), TranscriptFormat.TXT) == ""


def test_srt_numbers_cues_from_one_and_uses_commas() -> None:
    assert render(SAMPLE, TranscriptFormat.SRT) == (
        "1\n00:00:00,000 --> 00:00:01,500\nHello there.\n"
        "\n"
        "2\n00:00:01,500 --> 00:00:03,250\nHow are you?\n"
        "\n"
        "3\n00:00:06,000 --> 00:00:07,000\nFine.\n"
    )


def test_vtt_has_a_header_dots_and_escaped_text() -> None:
    transcript = make((3725.0004, 3726.9996, "a < b && c --> d"))
    assert render(transcript, TranscriptFormat.VTT) == (
        "WEBVTT\n\n01:02:05.000 --> 01:02:07.000\na &lt; b &amp;&amp; c --&gt; d\n"
    )


def test_cues_skip_empty_segments_and_never_end_before_they_start() -> None:
    transcript = make((0, 1, "  "), (2.0, 1.0, "late\n\nline"))
    assert render(transcript, TranscriptFormat.SRT) == (
        "1\n00:00:02,000 --> 00:00:02,000\nlate line\n"
    )


def test_json_round_trips_with_words() -> None:
    word = Word(start=0.25, end=0.5, text="Hello", probability=0.9)
    transcript = msgspec.structs.replace(
        SAMPLE, segments=(msgspec.structs.replace(SAMPLE.segments[0], words=(word,)),)
    )
    rendered = render(transcript, TranscriptFormat.JSON)
    assert msgspec.json.decode(rendered)["segments"][0]["words"] == [
        {"start": 0.25, "end": 0.5, "text": "Hello", "probability": 0.9}
    ]
    assert decode_transcript(rendered) == transcript


def test_formats_are_their_file_extensions() -> None:
    assert [f.value for f in TranscriptFormat] == ["txt", "srt", "vtt", "json"]
    assert TranscriptFormat("vtt") is TranscriptFormat.VTT


def test_options_default_to_auto_and_reject_unknown_tasks() -> None:
    options = TranscribeOptions()
    assert (options.language, options.task, options.model) == (None, "transcribe", None)
    assert (options.device, options.compute_type, options.beam_size) == ("auto", "auto", 5)
    assert options.vad_filter
    assert options.word_timestamps
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"task": "summarise"}, TranscribeOptions)


def _spoken(text: str, start: float, seconds_per_word: float) -> Segment:
    """A segment whose words follow each other at an even pace, as word timings give them."""
    words = tuple(
        Word(start=start + i * seconds_per_word, end=start + (i + 1) * seconds_per_word, text=w)
        for i, w in enumerate(text.split())
    )
    return Segment(index=0, start=start, end=words[-1].end, text=f" {text}", words=words)


def _cues(rendered: str) -> list[list[str]]:
    return [block.split("\n") for block in rendered.strip("\n").split("\n\n")]


def _seconds(stamp: str) -> float:
    hours, minutes, rest = stamp.replace(",", ".").split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


LONG = (
    "When the download finishes, the converter copies the audio stream into an m4a file "
    "without encoding it again, and the transcriber reads that file from the start; "
    "every segment it hears is stored before it goes on, so a crash loses nothing"
)


def test_a_long_segment_becomes_short_cues_timed_by_its_words() -> None:
    segment = _spoken(LONG, start=10.0, seconds_per_word=0.4)  # 42 words, 16.8 s, 240 chars
    cues = _cues(render(Transcript(language="en", duration=30.0, segments=(segment,)), SRT))
    assert len(cues) >= 3
    assert [cue[0] for cue in cues] == [str(n) for n in range(1, len(cues) + 1)]
    assert " ".join(" ".join(cue[2:]) for cue in cues) == LONG
    word_times = {round(t, 3) for w in segment.words for t in (w.start, w.end)}
    previous_end = 0.0
    for cue in cues:
        start, end = (_seconds(t) for t in cue[1].split(" --> "))
        assert previous_end <= start < end <= start + 7.0
        assert {start, end} <= word_times | {segment.start, segment.end}
        assert 1 <= len(cue[2:]) <= 2
        assert all(len(line) <= 42 for line in cue[2:])
        previous_end = end
    assert _seconds(cues[0][1].split(" --> ")[0]) == 10.0
    assert _seconds(cues[-1][1].split(" --> ")[1]) == segment.end
    # A full cue is cut after a clause when one ends in its second half, not mid-phrase.
    assert cues[2][-1].endswith("before it goes on,")


def test_a_long_segment_without_word_times_is_cut_by_its_characters() -> None:
    transcript = make((0.0, 24.0, LONG))
    cues = _cues(render(transcript, VTT).removeprefix("WEBVTT\n\n"))
    assert " ".join(" ".join(cue[1:]) for cue in cues) == LONG
    stamps = [tuple(_seconds(t) for t in cue[0].split(" --> ")) for cue in cues]
    assert stamps[0][0] == 0.0
    assert stamps[-1][1] == 24.0
    assert all(end - start <= 7.0 for start, end in stamps)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(stamps))


def test_text_without_spaces_is_cut_into_short_lines() -> None:
    chinese = "我们今天讨论的是如何把很长的一段语音转写成字幕，" * 4
    cues = _cues(render(make((0.0, 6.0, chinese)), SRT))
    assert "".join("".join(cue[2:]) for cue in cues) == chinese
    assert all(len(line) <= 42 for cue in cues for line in cue[2:])


MANDARIN = "今天天气很好，我们一起去公园散步吧。这家饭馆的菜非常好吃，价格也不贵。"


def _spoken_characters(text: str, start: float, seconds_per_character: float) -> Segment:
    """A segment timed character by character, as whisper times Chinese and Japanese words
    (the punctuation goes with the character before it)."""
    words: list[Word] = []
    for char in text:
        if char in "，。、！？" and words:
            words[-1] = msgspec.structs.replace(words[-1], text=words[-1].text + char)
            continue
        at = start + len(words) * seconds_per_character
        words.append(Word(start=at, end=at + seconds_per_character, text=char))
    return Segment(index=0, start=start, end=words[-1].end, text=text, words=tuple(words))


@pytest.mark.parametrize(
    "text",
    [MANDARIN, "今日はいい天気ですね。公園を散歩しましょう、それから駅の近くで昼ご飯を食べます。"],
    ids=["chinese", "japanese"],
)
def test_chinese_and_japanese_cues_have_short_lines_cut_at_punctuation(text: str) -> None:
    segment = _spoken_characters(text, start=2.0, seconds_per_character=0.2)
    cues = _cues(render(Transcript(language="zh", duration=30.0, segments=(segment,)), SRT))
    assert "".join("".join(cue[2:]) for cue in cues) == text  # no character lost or added
    lines = [line for cue in cues for line in cue[2:]]
    assert all(len(line) <= 16 for line in lines)
    assert all(1 <= len(cue[2:]) <= 2 for cue in cues)
    # Cues end at clause marks, and so do lines where a mark is in reach.
    assert all(cue[-1][-1] in "，。、" for cue in cues)
    assert lines[0].endswith("，" if text == MANDARIN else "。")
    for cue in cues:
        start, end = (_seconds(t) for t in cue[1].split(" --> "))
        assert start < end <= start + 7.0


def test_a_short_chinese_segment_wraps_onto_two_lines() -> None:
    cues = _cues(render(make((0.0, 5.0, "这家饭馆的菜非常好吃，价格也不贵。")), SRT))
    stamp = "00:00:00,000 --> 00:00:05,000"
    assert cues == [["1", stamp, "这家饭馆的菜非常好吃，", "价格也不贵。"]]


def test_a_fragment_is_not_left_alone_at_the_end() -> None:
    text = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    cues = _cues(
        render(Transcript(language="en", duration=9, segments=(_spoken(text, 0, 0.5),)), SRT)
    )
    texts = [" ".join(cue[2:]) for cue in cues]
    assert " ".join(texts) == text
    assert min(len(t) for t in texts) >= 21
