"""Pure data of AudioGrab: ids, jobs and their state machine, media, events and typed errors.

Nothing here does I/O; every other layer may import it.
"""

from audiograb.domain.errors import AudiograbError, ErrorCode, JobError
from audiograb.domain.events import (
    ConversionProgressed,
    DownloadGapsFound,
    DownloadProgressed,
    JobCancelled,
    JobCompleted,
    JobEvent,
    JobFailed,
    JobPriorityChanged,
    JobRetryScheduled,
    JobStateChanged,
    JobSubmitted,
    MediaResolved,
    TranscriptSegmentAdded,
    decode_event,
    encode_event,
    event_to_builtins,
    is_terminal,
)
from audiograb.domain.formats import AudioFormat, MediaKind, Quality
from audiograb.domain.gaps import Gap, describe_gaps, missing_seconds
from audiograb.domain.job import (
    DEFAULT_PRIORITY,
    MAX_PRIORITY,
    MIN_PRIORITY,
    Job,
    JobRequest,
    JobState,
    MediaInfo,
    new_job_id,
)
from audiograb.domain.progress import ConversionProgress, DownloadProgress
from audiograb.domain.transcript import (
    Segment,
    TranscribeOptions,
    Transcript,
    TranscriptFormat,
    Word,
    render,
)

__all__ = [
    "DEFAULT_PRIORITY",
    "MAX_PRIORITY",
    "MIN_PRIORITY",
    "AudioFormat",
    "AudiograbError",
    "ConversionProgress",
    "ConversionProgressed",
    "DownloadGapsFound",
    "DownloadProgress",
    "DownloadProgressed",
    "ErrorCode",
    "Gap",
    "Job",
    "JobCancelled",
    "JobCompleted",
    "JobError",
    "JobEvent",
    "JobFailed",
    "JobPriorityChanged",
    "JobRequest",
    "JobRetryScheduled",
    "JobState",
    "JobStateChanged",
    "JobSubmitted",
    "MediaInfo",
    "MediaKind",
    "MediaResolved",
    "Quality",
    "Segment",
    "TranscribeOptions",
    "Transcript",
    "TranscriptFormat",
    "TranscriptSegmentAdded",
    "Word",
    "decode_event",
    "describe_gaps",
    "encode_event",
    "event_to_builtins",
    "is_terminal",
    "missing_seconds",
    "new_job_id",
    "render",
]
