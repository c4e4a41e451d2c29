"""Pure data of AudioGrab: ids, jobs and their state machine, media, events and typed errors.

Nothing here does I/O; every other layer may import it.
"""

from audiograb.domain.annotations import Annotation
from audiograb.domain.batches import Batch, Rejected
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
    StoredEvent,
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
from audiograb.domain.lease import Claimed, Held, Lease, LeaseLost
from audiograb.domain.links import LinkInfo, LinkKind, PlaylistHandling
from audiograb.domain.progress import ConversionProgress, DownloadProgress
from audiograb.domain.schedules import Schedule, ScheduleState
from audiograb.domain.transcript import (
    Segment,
    TranscribeOptions,
    Transcript,
    TranscriptFormat,
    Word,
    render,
)
from audiograb.domain.webhooks import Attempt, Delivery, Endpoint, Message, MessageStatus

__all__ = [
    "DEFAULT_PRIORITY",
    "MAX_PRIORITY",
    "MIN_PRIORITY",
    "Annotation",
    "Attempt",
    "AudioFormat",
    "AudiograbError",
    "Batch",
    "Claimed",
    "ConversionProgress",
    "ConversionProgressed",
    "Delivery",
    "DownloadGapsFound",
    "DownloadProgress",
    "DownloadProgressed",
    "Endpoint",
    "ErrorCode",
    "Gap",
    "Held",
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
    "Lease",
    "LeaseLost",
    "LinkInfo",
    "LinkKind",
    "MediaInfo",
    "MediaKind",
    "MediaResolved",
    "Message",
    "MessageStatus",
    "PlaylistHandling",
    "Quality",
    "Rejected",
    "Schedule",
    "ScheduleState",
    "Segment",
    "StoredEvent",
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
