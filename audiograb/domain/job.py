"""Jobs: what was asked, where the work stands, and the legal moves between states."""

import time
import uuid
from enum import StrEnum

import msgspec

from audiograb.domain.errors import AudiograbError, ErrorCode, JobError
from audiograb.domain.formats import AudioFormat, MediaKind, Quality
from audiograb.domain.gaps import Gap
from audiograb.domain.transcript import TranscribeOptions


def new_job_id() -> str:
    """Return a fresh, URL-safe, unguessable job id."""
    return uuid.uuid4().hex


class JobState(StrEnum):
    """Where a job is in its lifecycle."""

    QUEUED = "queued"
    DOWNLOADING = "downloading"
    CONVERTING = "converting"
    TRANSCRIBING = "transcribing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        """A terminal job does no more work unless it is retried."""
        return self in (JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED)

    def can_move_to(self, target: "JobState") -> bool:
        """Whether the state machine allows `self -> target`."""
        return target in _TRANSITIONS[self]

    def check_move_to(self, target: "JobState") -> None:
        """Raise `invalid_state` unless `self -> target` is allowed."""
        if not self.can_move_to(target):
            raise AudiograbError(
                ErrorCode.INVALID_STATE, f"a {self.value} job cannot become {target.value}"
            )


_WORKING = (JobState.DOWNLOADING, JobState.CONVERTING, JobState.TRANSCRIBING)
_ENDINGS = (JobState.FAILED, JobState.CANCELLED)
# Any working state may go back to QUEUED: that is how an interrupted job is resumed.
_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({*_WORKING, *_ENDINGS}),
    JobState.DOWNLOADING: frozenset(
        {JobState.CONVERTING, JobState.TRANSCRIBING, JobState.QUEUED, *_ENDINGS}
    ),
    JobState.CONVERTING: frozenset(
        {JobState.TRANSCRIBING, JobState.COMPLETED, JobState.QUEUED, *_ENDINGS}
    ),
    JobState.TRANSCRIBING: frozenset({JobState.COMPLETED, JobState.QUEUED, *_ENDINGS}),
    JobState.COMPLETED: frozenset(),
    JobState.FAILED: frozenset({JobState.QUEUED}),
    JobState.CANCELLED: frozenset({JobState.QUEUED}),
}


#: The lowest, default and highest job priority.
MIN_PRIORITY, DEFAULT_PRIORITY, MAX_PRIORITY = 1, 5, 10


class JobRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What a user asked for. Never carries a server path or raw yt-dlp options."""

    url: str
    format: AudioFormat = AudioFormat.M4A
    quality: Quality = Quality.HIGH
    media: MediaKind = MediaKind.AUDIO
    transcribe: bool = False
    playlist: bool = False
    transcription: TranscribeOptions = msgspec.field(default_factory=TranscribeOptions)
    """How to transcribe, when `transcribe` is set."""
    keep_media: bool = True
    """False for a transcript-only job: no converted media file is kept."""
    priority: int = DEFAULT_PRIORITY
    """1-10, higher runs first; first come, first served within a level."""
    webhook_url: str | None = None
    """Where this job's webhook events go, besides the configured default URL."""
    max_bytes: int | None = None
    """Fail the download (`too_large`) past this many bytes; at most, and by default, the
    `max_download_bytes` setting."""
    max_duration: float | None = None
    """Fail the download (`too_long`) when the media runs, or a live recording has run, longer
    than this many seconds; at most, and by default, the `max_duration` setting."""


class MediaInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What we learnt about the media: the tags we write and what the faces show."""

    title: str | None = None
    uploader: str | None = None
    date: str | None = None
    description: str | None = None
    duration: float | None = None
    webpage_url: str | None = None
    thumbnail: str | None = None
    extractor: str | None = None
    is_live: bool = False
    filesize: int | None = None
    has_video: bool | None = None
    """Whether the source has a picture; None when the site did not say (the bot offers a
    video only when it may)."""


class Job(msgspec.Struct, frozen=True, kw_only=True):
    """A job as stored. Change it with `msgspec.structs.replace`; the store keeps history."""

    id: str
    request: JobRequest
    platform: str
    state: JobState = JobState.QUEUED
    created_at: float = msgspec.field(default_factory=time.time)
    updated_at: float = msgspec.field(default_factory=time.time)
    media: MediaInfo | None = None
    output_dir: str | None = None
    """Folder chosen at submission for the finished file; None means the configured one."""
    output_name: str | None = None
    """Exact file name chosen at submission (the CLI's `-o file`); None names it after the title."""
    download_path: str | None = None
    output_path: str | None = None
    error: JobError | None = None
    attempts: int = 0
    source_file: str | None = None
    """A local file to work on instead of downloading `request.url` (library and CLI only)."""
    transcript_language: str | None = None
    """The transcript's language, detected or as asked."""
    batch_id: str | None = None
    """The batch this job belongs to, if any."""
    schedule_id: str | None = None
    """The schedule that made this job, if any."""
    scheduled_for: float | None = None
    """When that schedule was due (Unix time): never later than `created_at`."""
    queued_at: float | None = None
    """When the job last joined the queue anew (a user's retry); None: at `created_at`."""
    retries: int = 0
    """Automatic retries of the current attempt after transient failures."""
    retry_at: float | None = None
    """While an automatic retry waits: the job does not start before this Unix time."""
    transcript_model: str | None = None
    """The model that made the transcript (the default resolved to its name)."""
    transcript_language_probability: float | None = None
    """How sure the model was of `transcript_language` when it detected it; None: given."""
    gaps: tuple[Gap, ...] = ()
    """Media time the download could not fetch (skipped HLS segments), in order."""
