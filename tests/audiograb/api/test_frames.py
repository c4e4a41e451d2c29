"""SSE frames: each event encoded once for every stream, the server's folders never sent."""

import json

from audiograb.api.sse import FrameCache
from audiograb.domain import JobCompleted, JobState, JobStateChanged


def _state(seq: int) -> JobStateChanged:
    return JobStateChanged(
        job_id="j1", seq=seq, state=JobState.DOWNLOADING, previous=JobState.QUEUED
    )


def test_a_frame_is_encoded_once_and_shared_by_every_stream() -> None:
    frames = FrameCache()
    first = frames.frame(41, 3, _state(3))
    assert frames.frame(41, 3, _state(3)) is first  # the same bytes object: no second encoding
    assert first.startswith(b"id: 3\nevent: job.state\ndata: {")
    assert json.loads(first.split(b"data: ", 1)[1])["state"] == "downloading"
    everything = frames.frame(41, 41, _state(3))  # the all-jobs stream numbers by log id
    assert everything.startswith(b"id: 41\n")


def test_the_oldest_frames_are_forgotten_past_the_size() -> None:
    frames = FrameCache(size=2)
    one = frames.frame(1, 1, _state(1))
    frames.frame(2, 2, _state(2))
    frames.frame(3, 3, _state(3))
    assert frames.frame(3, 3, _state(3)) is frames.frame(3, 3, _state(3))
    assert frames.frame(1, 1, _state(1)) is not one  # made again: it had been dropped


def test_a_completed_event_names_the_file_not_its_folder() -> None:
    done = JobCompleted(job_id="j1", seq=9, output_path="/srv/out/Talk [j1].m4a", size_bytes=5)
    data = json.loads(FrameCache().frame(50, 9, done).split(b"data: ", 1)[1])
    assert data["output_path"] == "Talk [j1].m4a"
