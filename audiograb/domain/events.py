"""Events: what happened to a job, past tense, one wire format for SSE, WebSocket and bot.

Every event carries the job id, a wall-clock time and `seq`, its position in the append-only
event log (0 until the journal records it). The `type` tag is stable and dotted.
"""

import time
from typing import Any, NamedTuple

import msgspec

from audiograb.domain.errors import JobError
from audiograb.domain.gaps import Gap
from audiograb.domain.job import JobRequest, JobState, MediaInfo
from audiograb.domain.progress import ConversionProgress, DownloadProgress
from audiograb.domain.transcript import Segment


class _Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    job_id: str
    seq: int = 0
    at: float = msgspec.field(default_factory=time.time)


class JobSubmitted(_Event, frozen=True, kw_only=True, tag="job.submitted"):
    """A job was accepted and queued."""

    request: JobRequest
    platform: str


class JobStateChanged(_Event, frozen=True, kw_only=True, tag="job.state"):
    """A job moved to a non-terminal state (terminal states have their own events)."""

    state: JobState
    previous: JobState


class MediaResolved(_Event, frozen=True, kw_only=True, tag="job.media"):
    """We learnt the media's title, uploader, duration and so on."""

    media: MediaInfo


class DownloadProgressed(_Event, frozen=True, kw_only=True, tag="download.progress"):
    """Bytes arrived."""

    progress: DownloadProgress


class DownloadGapsFound(_Event, frozen=True, kw_only=True, tag="download.gaps"):
    """The download finished without some of its segments (they answered 404 or kept failing):
    the job goes on, and these stretches of the media are missing from its output."""

    gaps: tuple[Gap, ...]
    missing: float
    """Seconds missing in all."""


class ConversionProgressed(_Event, frozen=True, kw_only=True, tag="convert.progress"):
    """FFmpeg wrote more of the output."""

    progress: ConversionProgress


class TranscriptSegmentAdded(_Event, frozen=True, kw_only=True, tag="transcript.segment"):
    """Whisper finished one more segment; `percent` is how far into the audio it reaches.

    These events are also the transcript's checkpoint: an interrupted transcription resumes
    after the last segment of the job's current `attempt`.
    """

    segment: Segment
    percent: float | None = None
    attempt: int = 0


class JobCompleted(_Event, frozen=True, kw_only=True, tag="job.completed"):
    """The job finished; its file is ready."""

    output_path: str
    size_bytes: int
    duration: float | None = None
    """Seconds of media the output holds: without its `gaps`."""
    gaps: tuple[Gap, ...] = ()
    """Stretches of the media missing from the output (see `download.gaps`)."""


class JobFailed(_Event, frozen=True, kw_only=True, tag="job.failed"):
    """The job stopped with an error."""

    error: JobError


class JobCancelled(_Event, frozen=True, kw_only=True, tag="job.cancelled"):
    """The job was cancelled by a user."""


class JobPriorityChanged(_Event, frozen=True, kw_only=True, tag="job.priority"):
    """A waiting job's priority changed."""

    priority: int
    previous: int


class JobRetryScheduled(_Event, frozen=True, kw_only=True, tag="job.retry"):
    """A transient failure: the job is queued again and runs no earlier than `retry_at`."""

    error: JobError
    retry: int
    """1 for the first automatic retry of this attempt."""
    retry_at: float


JobEvent = (
    JobSubmitted
    | JobStateChanged
    | MediaResolved
    | DownloadProgressed
    | DownloadGapsFound
    | ConversionProgressed
    | TranscriptSegmentAdded
    | JobCompleted
    | JobFailed
    | JobCancelled
    | JobPriorityChanged
    | JobRetryScheduled
)
TERMINAL_EVENTS = (JobCompleted, JobFailed, JobCancelled)

_encoder = msgspec.json.Encoder()
_decoder: msgspec.json.Decoder[JobEvent] = msgspec.json.Decoder(JobEvent)


def encode_event(event: JobEvent) -> bytes:
    """Encode an event as JSON with its `type` tag."""
    return _encoder.encode(event)


def decode_event(data: bytes | str) -> JobEvent:
    """Decode JSON produced by `encode_event`."""
    return _decoder.decode(data)


def event_to_builtins(event: JobEvent) -> dict[str, Any]:
    """Return the event as plain dicts and lists, tag included."""
    result: dict[str, Any] = msgspec.to_builtins(event)
    return result


def is_terminal(event: JobEvent) -> bool:
    """Whether this event ends its job's stream."""
    return isinstance(event, TERMINAL_EVENTS)


class StoredEvent(NamedTuple):
    """An event as the log holds it: `id` is its position in the log of all jobs.

    `event.seq` is its position in its own job's log. Being a tuple, it also unpacks as
    `(id, event)`.
    """

    id: int
    event: JobEvent
