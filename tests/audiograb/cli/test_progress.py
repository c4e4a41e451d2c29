"""The progress line is a pure function of the latest event."""

import fcntl
import io
import os
import pty
import struct
import termios

from audiograb.cli.progress import (
    ProgressLine,
    bar,
    describe,
    describe_download,
    fit,
    human_bytes,
    human_duration,
)
from audiograb.domain import (
    DownloadProgress,
    DownloadProgressed,
    JobState,
    JobStateChanged,
    MediaInfo,
    MediaResolved,
)


def test_units_read_naturally() -> None:
    assert human_bytes(512) == "512 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(5 * 1024**3) == "5.0 GiB"
    assert human_duration(75) == "1:15"
    assert human_duration(3725) == "1:02:05"


def test_bar_clamps_and_handles_unknown() -> None:
    assert bar(None) == "[" + "-" * 24 + "]"
    assert bar(150) == "[" + "#" * 24 + "]"
    assert bar(50).count("#") == 12


def test_hls_progress_shows_fragments_and_eta() -> None:
    text = describe_download(
        DownloadProgress(
            downloaded_bytes=2048, percent=40.0, fragment_index=4, fragment_count=10, eta=30
        )
    )
    assert "40.0%" in text
    assert "frag 4/10" in text
    assert "ETA 0:30" in text


def test_live_download_shows_elapsed_time() -> None:
    text = describe_download(DownloadProgress(downloaded_bytes=10_000, elapsed=65))
    assert "elapsed 1:05" in text


def test_events_without_anything_to_show_draw_nothing() -> None:
    assert describe(MediaResolved(job_id="j", media=MediaInfo())) is None
    changed = JobStateChanged(job_id="j", state=JobState.CONVERTING, previous=JobState.DOWNLOADING)
    assert describe(changed) == "converting…"


def test_piped_output_prints_a_phase_start_and_its_last_figures() -> None:
    stream = io.StringIO()
    line = ProgressLine(stream)
    for done in (10, 20, 30):
        line.show(DownloadProgressed(job_id="j", progress=DownloadProgress(downloaded_bytes=done)))
    line.close()
    first, last = stream.getvalue().splitlines()
    assert first.endswith(" 10 B")
    assert last.endswith(" 30 B")
    assert "\r" not in stream.getvalue()


def _read_all(controller: int) -> str:
    """Everything the terminal side wrote, once it is closed (Linux then answers EIO)."""
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


def test_on_a_narrow_terminal_the_line_never_wraps() -> None:
    """A real pseudo-terminal 50 columns wide: a wrapped line would leave a row per redraw."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 50, 0, 0))
    progress = DownloadProgress(
        downloaded_bytes=5_000_000, total_bytes=9_000_000, speed=1e6, eta=4.0
    )
    with os.fdopen(terminal, "w", encoding="utf-8") as stream:
        line = ProgressLine(stream)
        line.show(MediaResolved(job_id="j", media=MediaInfo(title="很长的标题" * 10)))
        line.show(DownloadProgressed(job_id="j", progress=progress))
    drawn = _read_all(controller)
    os.close(controller)
    redraws = [part for part in drawn.split("\r") if part]
    assert len(redraws) == 2
    assert redraws[0].startswith("found: 很长的标题")
    assert redraws[1].startswith("downloading [")
    assert all(fit(part.rstrip(" "), 1000)[1] <= 49 for part in redraws)
    assert fit("ab很c", 3) == ("ab", 2)
