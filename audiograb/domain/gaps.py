"""Gaps: stretches of a recording that could not be fetched (an HLS segment that answered 404).

yt-dlp skips a missing segment and goes on, which saves a long recording; the job then names
what is missing, so no face reports a full recording that is not.
"""

from collections.abc import Sequence

import msgspec


class Gap(msgspec.Struct, frozen=True, kw_only=True):
    """Media time, in seconds from the start, that the output lacks."""

    start: float
    end: float


def missing_seconds(gaps: Sequence[Gap]) -> float:
    """How much time the gaps add up to."""
    return sum(gap.end - gap.start for gap in gaps)


def describe_gaps(gaps: Sequence[Gap]) -> str:
    """`2.0 s missing: 0:08-0:10, 1:02:00-1:02:04`, the line the CLI and the bot show."""
    ranges = ", ".join(f"{_clock(gap.start)}-{_clock(gap.end)}" for gap in gaps)
    return f"{missing_seconds(gaps):.1f} s missing: {ranges}"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
