"""The event wire format: stable tags, round trips, and every tag documented."""

from pathlib import Path
from typing import get_args

from audiograb.domain import (
    DownloadProgress,
    DownloadProgressed,
    JobEvent,
    JobState,
    JobStateChanged,
    decode_event,
    encode_event,
    is_terminal,
)
from audiograb.domain.events import JobCancelled

DOCS = Path(__file__).parents[3] / "docs" / "events.md"


def test_events_round_trip_with_their_tag() -> None:
    event = DownloadProgressed(job_id="j", seq=3, progress=DownloadProgress(downloaded_bytes=5))
    data = encode_event(event)
    assert b'"type":"download.progress"' in data
    assert decode_event(data) == event


def test_only_ending_events_are_terminal() -> None:
    assert is_terminal(JobCancelled(job_id="j"))
    moved = JobStateChanged(job_id="j", state=JobState.DOWNLOADING, previous=JobState.QUEUED)
    assert not is_terminal(moved)


def test_every_event_type_is_documented() -> None:
    documented = DOCS.read_text()
    for kind in get_args(JobEvent):
        assert f"`{kind.__struct_config__.tag}`" in documented, kind.__name__
