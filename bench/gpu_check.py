"""Device check for a machine with an NVIDIA GPU: does `device=auto` pick CUDA with float16, and
how fast is batched transcription there?

Not part of `make bench` (its name does not end in `_bench.py`): run it by hand where a GPU
is, `PYTHONPATH=. uv run python bench/gpu_check.py`. It

1. asks CTranslate2 how many CUDA devices it sees, and fails when none;
2. resolves the default model and the multilingual `base` with `device="auto"` and checks
   they come out as `cuda` / `float16`;
3. transcribes ten minutes of LibriVox speech (the clips joined twenty times over) with
   faster-whisper's sequential loop and with the batched pipeline at batch sizes 4, 8, 16
   and 32 on the GPU, printing each realtime factor and word error rate, so that
   `AUDIOGRAB_WHISPER_BATCH_SIZE` can be set from a measurement on that card.

Exit status 0 when CUDA was found and picked, 1 otherwise.
"""

import sys
import tempfile
import time
from pathlib import Path

import ctranslate2
import faster_whisper

from audiograb.engines.whisper import ModelPool, resolve_model
from tests import speech
from tests.wer import word_error_rate

REPEATS = 20
BATCH_SIZES = (4, 8, 16, 32)


def timed(model: faster_whisper.WhisperModel, path: Path, batch_size: int) -> tuple[float, str]:
    """Seconds and text: sequential when `batch_size` is 1, else the batched pipeline."""
    start = time.perf_counter()
    common = {"beam_size": 5, "word_timestamps": True, "condition_on_previous_text": False}
    if batch_size == 1:
        segments, _ = model.transcribe(str(path), vad_filter=True, **common)
    else:
        pipeline = faster_whisper.BatchedInferencePipeline(model)
        segments, _ = pipeline.transcribe(str(path), batch_size=batch_size, **common)
    text = " ".join(segment.text for segment in segments)
    return time.perf_counter() - start, text


def main() -> int:
    devices = ctranslate2.get_cuda_device_count()
    print(f"CUDA devices seen by CTranslate2: {devices}")
    if devices == 0:
        print("no GPU here: nothing to check")
        return 1
    pool = ModelPool()
    ok = True
    for name in (None, "base"):
        spec = resolve_model(name, allow_download=False)
        picked = (spec.device, spec.compute_type) == ("cuda", "float16")
        ok &= picked
        verdict = "OK" if picked else "FAIL"
        print(f"{spec.name}: device=auto → {spec.device}/{spec.compute_type} {verdict}")
    with tempfile.TemporaryDirectory() as tmp:
        clips = speech.librivox_clips()
        path = speech.join_clips(Path(tmp) / "ten-minutes.wav", clips, REPEATS)
        reference = speech.reference_text(clips, REPEATS)
        seconds = len(faster_whisper.decode_audio(str(path))) / 16_000
        for name in (None, "base"):
            spec = resolve_model(name, allow_download=False)
            model = pool.get(spec)
            timed(model, path, 1)  # warm up the GPU
            for batch_size in (1, *BATCH_SIZES):
                took, text = timed(model, path, batch_size)
                label = "sequential" if batch_size == 1 else f"batch {batch_size:2d}"
                print(
                    f"{spec.name} {label}: {seconds / took:6.1f}x realtime, "
                    f"word error rate {word_error_rate(reference, text):.1%}"
                )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
