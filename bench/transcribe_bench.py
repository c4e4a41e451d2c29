"""Transcription speed and accuracy: AudioGrab's batched jobs vs faster-whisper's own loop.

On a 10-minute speech file (the LibriVox clips joined twenty times over, a second apart):

- the realtime factor (seconds of audio per second of work; higher is faster; timed in
  alternating rounds, best of each, so that a noisy stretch of the machine does not land on
  one side only) of a transcription job through AudioGrab (batched VAD chunks,
  `whisper_batch_size`) and of faster-whisper's sequential `transcribe` called directly with
  the same model (the bundled tiny.en) and options; goal: AudioGrab at least 2.0x faster;
- the word error rate of each; goal: AudioGrab's within 1.05x of faster-whisper's (with a
  floor of one percentage point, so that one word on a near-perfect baseline does not decide);
- the event-loop lag p99 while an AudioGrab job runs; goal: under 20 ms (measured in a round
  of its own, since the probe, a task waking every 5 ms, takes its share of the interpreter),
  and for comparison while faster-whisper alone runs in a worker thread (on a shared,
  loaded machine the loop waits for a core whoever transcribes);
- for information, the multilingual `base` (the `multilingual` extra) on the LibriVox clips
  joined once: its realtime factor and word error rate.

`--sweep` also times the batched pipeline alone at batch sizes 1, 4, 8 and 16, the
measurement behind the default `whisper_batch_size`.

Run with `make bench` (or `PYTHONPATH=. uv run python bench/transcribe_bench.py`).
"""

import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import faster_whisper

from audiograb.config import load_settings
from audiograb.domain import JobRequest, JobState, TranscribeOptions
from audiograb.engines.whisper import ModelPool, resolve_model
from audiograb.pipeline import Audiograb, open_audiograb
from tests import speech
from tests.wer import word_error_rate

REPEATS = 20  # the LibriVox clips twenty times over: ten minutes of speech
ROUNDS = 2
OPTIONS = TranscribeOptions(device="cpu", compute_type="int8")
SPEEDUP_GOAL = 2.0
WER_GOAL = 1.05
LAG_GOAL = 0.020
SWEEP = (1, 4, 8, 16)


def audio_seconds(path: Path) -> float:
    return float(faster_whisper.decode_audio(str(path)).shape[0]) / 16_000


def load(name: str | None, cache: Path) -> faster_whisper.WhisperModel:
    spec = resolve_model(
        name, device="cpu", compute_type="int8", cache_dir=cache, allow_download=False
    )
    return ModelPool().get(spec)


def direct(model: faster_whisper.WhisperModel, path: Path) -> tuple[float, str]:
    """Seconds and text for faster-whisper's sequential loop, with AudioGrab's default options."""
    start = time.perf_counter()
    segments, _ = model.transcribe(
        str(path),
        beam_size=OPTIONS.beam_size,
        vad_filter=OPTIONS.vad_filter,
        word_timestamps=OPTIONS.word_timestamps,
        condition_on_previous_text=False,
    )
    text = " ".join(segment.text for segment in segments)
    return time.perf_counter() - start, text


def batched(model: faster_whisper.WhisperModel, path: Path, batch_size: int) -> float:
    """Seconds for faster-whisper's batched pipeline alone (`batch_size` 1: sequential)."""
    start = time.perf_counter()
    if batch_size == 1:
        direct(model, path)
    else:
        segments, _ = faster_whisper.BatchedInferencePipeline(model).transcribe(
            str(path),
            batch_size=batch_size,
            beam_size=OPTIONS.beam_size,
            word_timestamps=OPTIONS.word_timestamps,
            condition_on_previous_text=False,
        )
        for _segment in segments:
            pass
    return time.perf_counter() - start


async def through_audiograb(ag: Audiograb, path: Path) -> tuple[float, str]:
    request = JobRequest(url="", transcribe=True, keep_media=False, transcription=OPTIONS)
    start = time.perf_counter()
    job = await ag.submit_file(path, request)
    done = await ag.wait(job.id)
    if done.state is not JobState.COMPLETED:
        raise SystemExit(f"transcription failed: {done.error}")
    seconds = time.perf_counter() - start
    return seconds, (await ag.transcript(job.id)).text


async def lag_while(work: Callable[[], Awaitable[object]]) -> float:
    """The event-loop lag p99 (seconds) while `work` runs."""
    lags: list[float] = []
    async with anyio.create_task_group() as group:

        async def tick() -> None:
            while True:
                before = time.perf_counter()
                await anyio.sleep(0.005)
                lags.append(time.perf_counter() - before - 0.005)

        group.start_soon(tick)
        await work()
        group.cancel_scope.cancel()
    return statistics.quantiles(lags, n=100)[98]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


async def main(sweep: bool) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clips = speech.librivox_clips()
        long_file = speech.join_clips(folder / "ten-minutes.wav", clips, REPEATS)
        short_file = speech.join_clips(folder / "clips.wav", clips)
        long_reference = speech.reference_text(clips, REPEATS)
        seconds = audio_seconds(long_file)
        short_seconds = audio_seconds(short_file)
        settings = load_settings(environ={}, data_dir=folder / "data", output_dir=folder / "out")
        tiny = await anyio.to_thread.run_sync(load, None, settings.model_root)
        async with open_audiograb(settings) as ag:
            await through_audiograb(ag, short_file)  # warm up: load the models, as a server does
            ours = theirs = float("inf")
            for _ in range(ROUNDS):  # alternating, best of each: noise lands on both sides
                took, our_text = await through_audiograb(ag, long_file)
                ours = min(ours, took)
                took, their_text = await anyio.to_thread.run_sync(direct, tiny, long_file)
                theirs = min(theirs, took)
            lag = await lag_while(lambda: through_audiograb(ag, long_file))
            # The same probe while faster-whisper runs alone in a worker thread: what the
            # machine's load costs the loop whoever transcribes.
            their_lag = await lag_while(lambda: anyio.to_thread.run_sync(direct, tiny, short_file))
        base = await anyio.to_thread.run_sync(load, "base", settings.model_root)
        base_seconds, base_text = await anyio.to_thread.run_sync(direct, base, short_file)
        if sweep:
            for size in SWEEP:
                took = await anyio.to_thread.run_sync(batched, tiny, long_file, size)
                print(f"batch size {size:2d}: {seconds / took:.1f}x realtime")
    speedup = theirs / ours
    our_wer = word_error_rate(long_reference, our_text)
    their_wer = word_error_rate(long_reference, their_text)
    wer_ok = our_wer <= max(their_wer * WER_GOAL, their_wer + 0.01)
    print(
        f"audio {seconds:.0f}s, tiny.en, CPU int8; realtime factor: audiograb "
        f"{seconds / ours:.1f}x, faster-whisper sequential {seconds / theirs:.1f}x"
    )
    print(f"speedup {speedup:.2f}x (goal >= {SPEEDUP_GOAL}x) {verdict(speedup >= SPEEDUP_GOAL)}")
    print(
        f"word error rate: audiograb {our_wer:.1%}, faster-whisper {their_wer:.1%} "
        f"(goal <= {WER_GOAL}x) {verdict(wer_ok)}"
    )
    print(
        f"event-loop lag p99: {lag * 1000:.1f} ms (goal < 20 ms) {verdict(lag < LAG_GOAL)}; "
        f"{their_lag * 1000:.1f} ms while faster-whisper alone runs in a thread"
    )
    print(
        f"multilingual base on the LibriVox clips ({short_seconds:.0f}s): "
        f"{short_seconds / base_seconds:.1f}x realtime, word error rate "
        f"{word_error_rate(speech.reference_text(clips), base_text):.1%}"
    )
    return 0 if speedup >= SPEEDUP_GOAL and wer_ok and lag < LAG_GOAL else 1


if __name__ == "__main__":
    sys.exit(anyio.run(main, "--sweep" in sys.argv[1:]))
