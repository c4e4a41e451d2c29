"""A one-line live progress bar for the terminal, drawn from job events.

Rendering is a pure function of the latest event, so it is tested without a terminal; the
`ProgressLine` writer only handles redraws (carriage return on a TTY; piped, a line when a
phase starts and one with its last figures when it ends, so logs stay readable and true).
"""

import os
import time
import unicodedata
from typing import TextIO

from audiograb.domain import (
    ConversionProgress,
    ConversionProgressed,
    DownloadProgress,
    DownloadProgressed,
    JobCompleted,
    JobEvent,
    JobRetryScheduled,
    JobStateChanged,
    MediaResolved,
    TranscriptSegmentAdded,
)

BAR_WIDTH = 24
PREVIEW_CHARS = 40
DEFAULT_COLUMNS = 80


def human_bytes(count: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def human_duration(seconds: float) -> str:
    """75 -> '1:15', 3725 -> '1:02:05'."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def bar(percent: float | None) -> str:
    """A fixed-width bar; an unknown percent draws an empty bar."""
    filled = round(BAR_WIDTH * min(max(percent or 0.0, 0.0), 100.0) / 100)
    return "[" + "#" * filled + "-" * (BAR_WIDTH - filled) + "]"


def describe_download(progress: DownloadProgress) -> str:
    """Percent, bytes, speed, ETA, fragments for HLS, and the time recorded for a live stream."""
    parts = [bar(progress.percent)]
    if progress.percent is not None:
        parts.append(f"{progress.percent:5.1f}%")
    done = human_bytes(progress.downloaded_bytes)
    total = f" / {human_bytes(progress.total_bytes)}" if progress.total_bytes else ""
    parts.append(done + total)
    if progress.fragment_count:
        parts.append(f"frag {progress.fragment_index or 0}/{progress.fragment_count}")
    if progress.speed:
        parts.append(f"{human_bytes(progress.speed)}/s")
    if progress.recorded is not None:
        parts.append(f"recorded {human_duration(progress.recorded)}")
    elif progress.eta is not None:
        parts.append(f"ETA {human_duration(progress.eta)}")
    elif progress.elapsed is not None and progress.percent is None:
        parts.append(f"elapsed {human_duration(progress.elapsed)}")
    return "downloading " + " ".join(parts)


def describe_conversion(progress: ConversionProgress) -> str:
    """Percent of the media written, and FFmpeg's speed."""
    parts = [bar(progress.percent)]
    if progress.percent is not None:
        parts.append(f"{progress.percent:5.1f}%")
    parts.append(human_duration(progress.out_seconds))
    if progress.speed:
        parts.append(f"{progress.speed:.1f}x")
    return "converting  " + " ".join(parts)


def describe_segment(event: TranscriptSegmentAdded) -> str:
    """How far whisper is, and the start of the latest words it heard."""
    words = event.segment.text.strip()
    preview = words if len(words) <= PREVIEW_CHARS else words[: PREVIEW_CHARS - 1] + "…"
    percent = f" {event.percent:5.1f}%" if event.percent is not None else ""
    return f"transcribing {bar(event.percent)}{percent} {preview}"


def describe_retry(event: JobRetryScheduled, limit: int | None, now: float) -> str:
    """`retry 2/3 in 4 s: <reason>`: a transient failure, and when the job tries again."""
    of = f"/{limit}" if limit else ""
    wait = max(0, round(event.retry_at - now))
    return f"retry {event.retry}{of} in {wait} s: {event.error.message}"


def describe(event: JobEvent, *, retry_limit: int | None = None) -> str | None:
    """The status line for an event, or None when the event changes nothing on screen."""
    if isinstance(event, JobRetryScheduled):
        return describe_retry(event, retry_limit, time.time())
    if isinstance(event, JobCompleted):
        return "completed"
    if isinstance(event, DownloadProgressed):
        return describe_download(event.progress)
    if isinstance(event, ConversionProgressed):
        return describe_conversion(event.progress)
    if isinstance(event, TranscriptSegmentAdded):
        return describe_segment(event)
    if isinstance(event, JobStateChanged):
        return f"{event.state.value}…"
    if isinstance(event, MediaResolved) and event.media.title:
        return f"found: {event.media.title}"
    return None


def fit(text: str, columns: int) -> tuple[str, int]:
    """`text` cut to `columns` terminal cells (East Asian wide characters take two), and the
    cells it takes."""
    width = 0
    for index, char in enumerate(text):
        cells = 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
        if width + cells > columns:
            return text[:index], width
        width += cells
    return text, width


def _columns(stream: TextIO) -> int:
    """The terminal's width (80 when it cannot be asked)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or DEFAULT_COLUMNS
    except (OSError, ValueError):
        return DEFAULT_COLUMNS


class ProgressLine:
    """Redraws one status line on a terminal; piped, prints a line when a phase starts and one
    with its last figures when it ends (not a stale `0.3%`).

    `retry_limit` completes the `retry 2/3` lines.
    """

    def __init__(self, stream: TextIO, *, retry_limit: int | None = None) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._retry_limit = retry_limit
        self._width = 0
        self._phase = ""
        self._unprinted: str | None = None
        """Piped: the phase's latest line, not printed yet."""

    def show(self, event: JobEvent) -> None:
        """Draw the line for `event`, if it has one."""
        text = describe(event, retry_limit=self._retry_limit)
        if text is not None:
            self._draw(text, phase=type(event).__name__ + text.split(" ", 1)[0])

    def show_conversion(self, progress: ConversionProgress) -> None:
        """Draw a conversion that runs outside a job (`audiograb convert`)."""
        self._draw(describe_conversion(progress), phase="converting")

    def _draw(self, text: str, phase: str) -> None:
        if self._tty:
            # A line wider than the terminal wraps, and "\r" then only returns to the start of
            # its last row: every redraw would leave a row behind.
            text, width = fit(text, _columns(self._stream) - 1)
            padding = " " * max(0, self._width - width)
            self._stream.write("\r" + text + padding)
            self._width = width
        elif phase != self._phase:
            self._print_unprinted()
            self._stream.write(text + "\n")
        else:
            self._unprinted = text
        self._phase = phase
        self._stream.flush()

    def _print_unprinted(self) -> None:
        if self._unprinted is not None:
            self._stream.write(self._unprinted + "\n")
            self._unprinted = None

    def close(self) -> None:
        """End the live line so later output starts on a fresh line (piped: print the last
        figures of the last phase)."""
        if self._tty and self._width:
            self._stream.write("\n")
        self._print_unprinted()
        self._stream.flush()
        self._width = 0
