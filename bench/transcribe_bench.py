"""Transcription speed through AudioGrab vs faster-whisper called directly on the same file.

Reports each realtime factor (seconds of audio per second of work; higher is faster), their
ratio (goal: AudioGrab >= 0.95 of direct), and the event-loop lag p99 while a transcription
job runs (goal: < 20 ms).

The two are timed in alternating rounds, best of each, so that a noisy stretch of the machine
does not land on one side only; the lag is measured in a round of its own, since the probe
(a task waking every 5 ms) takes its share of the interpreter from the job it watches.

Run with `make bench` (or `PYTHONPATH=. uv run python bench/transcribe_bench.py`).
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
import faster_whisper

from audiograb.config import load_settings
from audiograb.domain import JobRequest, JobState, TranscribeOptions
from audiograb.engines.whisper import ModelPool, resolve_model
from audiograb.pipeline import Audiograb, open_audiograb
from tests import speech

ROUNDS = 3
REPEATS = 4  # the LibriVox clips four times over: about two minutes of speech
OPTIONS = TranscribeOptions(device="cpu", compute_type="int8")


def audio_seconds(path: Path) -> float:
    return float(faster_whisper.decode_audio(str(path)).shape[0]) / 16_000


def direct(path: Path) -> float:
    """Seconds for faster-whisper alone, with the options AudioGrab passes by default."""
    spec = resolve_model(None, device="cpu", compute_type="int8", allow_download=False)
    model = ModelPool().get(spec)
    start = time.perf_counter()
    segments, _ = model.transcribe(
        str(path),
        beam_size=OPTIONS.beam_size,
        vad_filter=OPTIONS.vad_filter,
        word_timestamps=OPTIONS.word_timestamps,
        condition_on_previous_text=False,
    )
    for _segment in segments:
        pass
    return time.perf_counter() - start


async def through_audiograb(ag: Audiograb, path: Path) -> float:
    request = JobRequest(url="", transcribe=True, keep_media=False, transcription=OPTIONS)
    start = time.perf_counter()
    job = await ag.submit_file(path, request)
    done = await ag.wait(job.id)
    if done.state is not JobState.COMPLETED:
        raise SystemExit(f"transcription failed: {done.error}")
    return time.perf_counter() - start


async def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = speech.join_clips(folder / "speech.wav", speech.librivox_clips(), REPEATS)
        seconds = audio_seconds(path)
        settings = load_settings(environ={}, data_dir=folder / "data", output_dir=folder / "out")
        lags: list[float] = []
        async with open_audiograb(settings) as ag:
            await through_audiograb(ag, path)  # warm up: load the model once, as a server does
            ours = theirs = float("inf")
            for _ in range(ROUNDS):
                ours = min(ours, await through_audiograb(ag, path))
                theirs = min(theirs, await anyio.to_thread.run_sync(direct, path))
            async with anyio.create_task_group() as group:

                async def tick() -> None:
                    while True:
                        before = time.perf_counter()
                        await anyio.sleep(0.005)
                        lags.append(time.perf_counter() - before - 0.005)

                group.start_soon(tick)
                await through_audiograb(ag, path)
                group.cancel_scope.cancel()
    ratio = theirs / ours
    lag = statistics.quantiles(lags, n=100)[98]
    print(
        f"audio {seconds:.1f}s; realtime factor: audiograb {seconds / ours:.1f}x, "
        f"faster-whisper direct {seconds / theirs:.1f}x"
    )
    print(f"audiograb / direct = {ratio:.2f} (goal >= 0.95) {'PASS' if ratio >= 0.95 else 'FAIL'}")
    print(
        f"event-loop lag p99 during transcription: {lag * 1000:.1f} ms (goal < 20 ms) "
        f"{'PASS' if lag < 0.020 else 'FAIL'}"
    )
    return 0 if ratio >= 0.95 and lag < 0.020 else 1


if __name__ == "__main__":
    sys.exit(anyio.run(main))
