"""Running a conversion plan: FFmpeg as a subprocess, with progress, cancel and atomic output.

FFmpeg writes `-progress` key=value blocks to stdout (each ends with `progress=continue` or
`progress=end`) and only errors to stderr, which goes to a temporary file so a chatty FFmpeg can
never block on a full pipe. The output is written to a hidden partial file next to `dest` and
renamed over it on success; on failure or cancel the partial file is removed.
"""

import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

from audiograb.domain import AudiograbError, ConversionProgress, ErrorCode

from .inputs import input_args
from .plan import ConversionPlan

__all__ = ["convert", "parse_progress"]

_CANCEL_POLL_SECONDS = 0.1
_TERMINATE_GRACE_SECONDS = 2.0
_STDERR_TAIL_LINES = 5
# FFmpeg prefixes log lines with the component and its address: "[mp3 @ 0x55d0c1a2] ".
_LOG_PREFIX = re.compile(r"^(\[[^\]]* @ 0x[0-9a-f]+\]\s*)+")


def convert(
    source: Path,
    dest: Path,
    plan: ConversionPlan,
    *,
    ffmpeg: str,
    duration: float | None = None,
    on_progress: Callable[[ConversionProgress], None] | None = None,
    cancel: threading.Event | None = None,
    cover: Path | None = None,
) -> None:
    """Run `plan` on `source`, producing `dest`; blocks until FFmpeg is done.

    `cover` is the picture file the plan embeds (second input); it is required when
    `plan.cover` is set and unused otherwise.

    `duration` (seconds of the source) turns progress into a percentage. Setting `cancel`
    stops FFmpeg within about `_CANCEL_POLL_SECONDS` and raises `cancelled`; a failing FFmpeg
    raises `conversion_failed` with the end of its error output (`disk_full` when it ran out
    of room to write). Either way no partial file
    stays behind and the FFmpeg process has been reaped.
    """
    partial = dest.with_name(f".{dest.name}.part")
    if plan.cover and cover is None:
        raise ValueError("the plan embeds a cover: pass its file as `cover`")
    second = input_args(cover) if plan.cover and cover is not None else []
    argv = [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-progress", "pipe:1", "-nostats",
        *input_args(source), *second, *plan.args, str(partial),
    ]  # fmt: skip
    cancel = cancel or threading.Event()
    done = False
    try:
        with tempfile.TemporaryFile() as stderr:
            returncode = _run(argv, stderr, duration, on_progress, cancel)
            if cancel.is_set():
                raise AudiograbError(ErrorCode.CANCELLED, "the conversion was cancelled")
            if returncode != 0:
                tail = _tail(stderr)
                full = "No space left on device" in tail
                raise AudiograbError(
                    ErrorCode.DISK_FULL if full else ErrorCode.CONVERSION_FAILED,
                    f"FFmpeg failed (exit {returncode}) converting {source.name}: {tail}",
                )
        os.replace(partial, dest)
        done = True
    finally:
        if not done:
            partial.unlink(missing_ok=True)


def _run(
    argv: list[str],
    stderr: IO[bytes],
    duration: float | None,
    on_progress: Callable[[ConversionProgress], None] | None,
    cancel: threading.Event,
) -> int:
    """Start FFmpeg, feed its progress to `on_progress` and stop it on `cancel`."""
    try:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, text=True)
    except OSError as error:
        raise AudiograbError(
            ErrorCode.CONVERSION_FAILED, f"cannot start FFmpeg {argv[0]}: {error}"
        ) from error
    finished = threading.Event()
    watcher = threading.Thread(
        target=_stop_on_cancel, args=(process, cancel, finished), name="ffmpeg-cancel", daemon=True
    )
    watcher.start()
    with process:  # closes stdout and reaps FFmpeg, whatever happens below
        try:
            assert process.stdout is not None
            for update in parse_progress(process.stdout, duration):
                if on_progress is not None and not cancel.is_set():
                    on_progress(update)
            return process.wait()
        finally:
            finished.set()
            if process.poll() is None:
                _stop(process)
            watcher.join()


def _stop_on_cancel(
    process: subprocess.Popen[str], cancel: threading.Event, finished: threading.Event
) -> None:
    while not finished.is_set():
        if cancel.wait(_CANCEL_POLL_SECONDS):
            _stop(process)
            return


def _stop(process: subprocess.Popen[str]) -> None:
    """Terminate FFmpeg, kill it if it lingers, and reap it."""
    process.terminate()
    try:
        process.wait(_TERMINATE_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def parse_progress(lines: Iterable[str], duration: float | None) -> Iterator[ConversionProgress]:
    """Turn FFmpeg `-progress` output into one `ConversionProgress` per block.

    `out_time_us` is preferred; `out_time_ms` is, despite its name, microseconds too. Values
    FFmpeg does not know yet ("N/A", negative times) are skipped. The last block (`progress=end`)
    reports 100 % when the duration is known.
    """
    block: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.strip().partition("=")
        if not sep:
            continue
        if key != "progress":
            block[key] = value.strip()
            continue
        seconds = _out_seconds(block)
        percent = None
        if value == "end" and duration:
            percent = 100.0
        elif duration and seconds is not None:
            percent = min(100.0, seconds / duration * 100.0)
        if seconds is not None:
            yield ConversionProgress(out_seconds=seconds, percent=percent, speed=_speed(block))
        block = {}


def _out_seconds(block: dict[str, str]) -> float | None:
    for key in ("out_time_us", "out_time_ms"):
        try:
            micros = int(block[key])
        except (KeyError, ValueError):
            continue
        return max(0.0, micros / 1_000_000)
    return None


def _speed(block: dict[str, str]) -> float | None:
    try:
        return float(block.get("speed", "").rstrip("x"))
    except ValueError:
        return None


def _tail(stderr: IO[bytes]) -> str:
    """The last few non-empty lines FFmpeg wrote to stderr, joined for a one-line message."""
    stderr.seek(0)
    text = stderr.read().decode("utf-8", errors="replace")
    lines = [_LOG_PREFIX.sub("", line.strip()) for line in text.splitlines() if line.strip()]
    return " | ".join(lines[-_STDERR_TAIL_LINES:]) or "no error output"
