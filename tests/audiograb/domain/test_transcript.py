"""Transcript types and their txt, srt, vtt and json renderings."""

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
