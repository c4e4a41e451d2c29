"""Transcription jobs end to end with the real bundled tiny.en and real human speech."""

import wave
from collections.abc import Iterator
from pathlib import Path

import anyio
import msgspec
import opencc
import pytest

from audiograb.config import Settings
from audiograb.domain import (
    AudioFormat,
    Job,
    JobRequest,
    JobState,
    Transcript,
    TranscriptFormat,
    TranscriptSegmentAdded,
    render,
)
from audiograb.domain.transcript import decode_transcript
from audiograb.pipeline import open_audiograb
from audiograb.store import open_store
from tests import speech
from tests.e2e.children import first_line_then_kill
from tests.mediaserver import MediaServer, media_server
from tests.wer import character_error_rate, word_error_rate

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

MAX_WER = 0.15
MANDARIN = Path(__file__).parents[1] / "data" / "espeak" / "multilingual-zh.opus"
TRANSCRIBE = JobRequest(url="", transcribe=True, keep_media=False)


@pytest.fixture(scope="module")
def speech_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The LibriVox clips joined once (about 29 s) and twice over (about 1 minute)."""
    root = tmp_path_factory.mktemp("speech")
    clips = speech.librivox_clips()
    speech.join_clips(root / "once.wav", clips)
    speech.join_clips(root / "twice.wav", clips, repeats=2)
    return root


@pytest.fixture
def speech_server(speech_root: Path) -> Iterator[MediaServer]:
    with media_server(speech_root) as running:
        yield running


def seconds(path: Path) -> float:
    """A WAV file's length."""
    with wave.open(str(path)) as audio:
        return audio.getnframes() / audio.getframerate()


def reference(repeats: int = 1) -> str:
    return speech.reference_text(speech.librivox_clips(), repeats)


async def transcribed(
    settings: Settings, source: Path, *, within: float = 120
) -> tuple[Job, Transcript]:
    """A transcript-only job on a local file, run to its end: the job and its transcript."""
    async with open_audiograb(settings) as ag:
        job = await ag.submit_file(source, TRANSCRIBE)
        with anyio.fail_after(within):
            done = await ag.wait(job.id)
        return done, await ag.transcript(job.id)


async def test_a_url_is_transcribed_as_segments_arrive(
    settings: Settings, speech_server: MediaServer
) -> None:
    request = JobRequest(url=speech_server.url("once.wav"), transcribe=True, keep_media=False)
    async with open_audiograb(settings) as ag:
        job = await ag.submit(request)
        percents: list[float | None] = []
        with anyio.fail_after(120):
            async with ag.subscribe(job.id) as events:
                async for recorded in events:
                    if isinstance(recorded.event, TranscriptSegmentAdded):
                        percents.append(recorded.event.percent)
        done = await ag.get(job.id)
        transcript = await ag.transcript(job.id)
    assert done.state is JobState.COMPLETED, done.error
    assert word_error_rate(reference(), transcript.text) < MAX_WER
    assert len(percents) == len(transcript.segments) > 1
    assert [p for p in percents if p is not None] == sorted(p for p in percents if p is not None)
    assert done.output_path is not None
    assert Path(done.output_path).suffix == ".json"
    assert done.transcript_language == "en"
    # The site did not say how long the media is: the transcript does, and names its model.
    stored = decode_transcript(await anyio.Path(done.output_path).read_bytes())
    assert stored.duration == transcript.duration == seconds(speech_server.root / "once.wav")
    assert stored.model == transcript.model == "tiny.en"


async def test_a_download_is_kept_and_transcribed(
    settings: Settings, speech_server: MediaServer
) -> None:
    request = JobRequest(url=speech_server.url("once.wav"), format=AudioFormat.MP3, transcribe=True)
    async with open_audiograb(settings) as ag:
        job = await ag.submit(request)
        with anyio.fail_after(120):
            done = await ag.wait(job.id)
        srt = render(await ag.transcript(job.id), TranscriptFormat.SRT)
    assert done.state is JobState.COMPLETED, done.error
    assert done.output_path is not None
    assert done.output_path.endswith(".mp3")
    assert "-->" in srt


async def test_a_local_file_is_transcribed_where_it_is(
    settings: Settings, speech_root: Path
) -> None:
    source = speech_root / "once.wav"
    done, transcript = await transcribed(settings, source)
    assert done.state is JobState.COMPLETED, done.error
    assert word_error_rate(reference(), transcript.text) < MAX_WER
    assert source.is_file()
    assert transcript.duration == seconds(source)
    assert done.media is not None
    assert done.media.duration == transcript.duration


async def test_cancel_stops_a_transcription_promptly(settings: Settings, speech_root: Path) -> None:
    async with open_audiograb(settings) as ag:
        job = await ag.submit_file(speech_root / "twice.wav", TRANSCRIBE)
        with anyio.fail_after(120):
            async with ag.subscribe(job.id) as events:
                async for recorded in events:
                    if isinstance(recorded.event, TranscriptSegmentAdded):
                        break
        with anyio.fail_after(15):
            cancelled = await ag.cancel(job.id)
    assert cancelled.state is JobState.CANCELLED


# A child process that transcribes and crashes hard once the first segment is stored.
CRASHING_CHILD = """
import os, signal, sys
from pathlib import Path
import anyio
from audiograb.config import load_settings
from audiograb.domain import JobRequest, TranscriptSegmentAdded
from audiograb.pipeline import open_audiograb
from audiograb.store import open_store

async def main() -> None:
    settings = load_settings(data_dir=sys.argv[1], output_dir=sys.argv[2])
    request = JobRequest(url="", transcribe=True, keep_media=False)
    async with open_audiograb(settings) as ag:
        job = await ag.submit_file(Path(sys.argv[3]), request)
        async with ag.subscribe(job.id) as events:
            async for recorded in events:
                if isinstance(recorded.event, TranscriptSegmentAdded):
                    print(job.id, flush=True)
                    os.kill(os.getpid(), signal.SIGKILL)

anyio.run(main)
"""


@pytest.mark.parametrize("batch_from", [60.0, 1.0], ids=["sequential", "batched"])
async def test_a_crashed_transcription_resumes_from_its_checkpoint(
    settings: Settings, speech_root: Path, batch_from: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The child reads the environment; batched, each stored segment is a whole VAD chunk.
    monkeypatch.setenv("AUDIOGRAB_WHISPER_BATCH_FROM", str(batch_from))
    settings = msgspec.structs.replace(settings, whisper_batch_from=batch_from)
    job_id = await first_line_then_kill(
        CRASHING_CHILD,
        str(settings.data_dir),
        str(settings.output_root),
        str(speech_root / "twice.wav"),
        within=120,
    )

    async with open_store(settings.database_path) as store:
        before = [recorded.event for recorded in await store.events_after(job_id)]
    async with open_audiograb(settings, serve=True) as ag:  # takes over the dead child's job
        with anyio.fail_after(120):
            done = await ag.wait(job_id)
        async with ag.subscribe(job_id) as events:
            after = [recorded.event async for recorded in events]
        transcript = await ag.transcript(job_id)
    assert done.state is JobState.COMPLETED, done.error
    stored_first = [e for e in before if isinstance(e, TranscriptSegmentAdded)]
    assert stored_first, "the crash came before any checkpoint"
    segments = [e.segment for e in after if isinstance(e, TranscriptSegmentAdded)]
    indices = [segment.index for segment in segments]
    assert indices == list(range(len(indices))), "a segment was redone or skipped"
    assert segments[0] == stored_first[0].segment
    starts = [segment.start for segment in transcript.segments]
    assert starts == sorted(starts)
    assert word_error_rate(reference(repeats=2), transcript.text) < MAX_WER


async def test_mandarin_goes_to_the_multilingual_model_in_batches(settings: Settings) -> None:
    # No model named, no language given: the default tiny.en cannot, so the multilingual base
    # (from `make setup`) takes the job; batched from the first second, so the batched
    # pipeline's segments are what the job stores and the transcript reads.
    batched = msgspec.structs.replace(settings, whisper_batch_from=1.0)
    done, transcript = await transcribed(batched, MANDARIN, within=300)
    assert done.state is JobState.COMPLETED, done.error
    assert (transcript.model, transcript.language) == ("base", "zh")
    assert transcript.language_probability is not None
    assert transcript.language_probability >= 0.5
    assert decode_transcript(render(transcript, TranscriptFormat.JSON)) == transcript
    starts = [segment.start for segment in transcript.segments]
    assert starts == sorted(starts)
    heard = opencc.OpenCC("t2s").convert(transcript.text)
    lines = MANDARIN.with_suffix(".tsv").read_text(encoding="utf-8").splitlines()
    assert character_error_rate("".join(line.split("\t")[2] for line in lines), heard) <= 0.25
