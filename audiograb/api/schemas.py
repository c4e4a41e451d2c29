"""What the API reads and writes: request bodies and the views of jobs it returns.

A request body names only what a user may choose (URL, format, quality, audio or video): unknown
fields are refused, so no client can pick a server path or pass yt-dlp options. Job views leave
out the server's paths; the finished file is reachable only through its job's `file_url`.
"""

from typing import Annotated

import msgspec

from audiograb.domain import (
    DEFAULT_PRIORITY,
    MAX_PRIORITY,
    MIN_PRIORITY,
    AudioFormat,
    Gap,
    Job,
    JobError,
    JobRequest,
    JobState,
    MediaInfo,
    MediaKind,
    Quality,
    TranscribeOptions,
)

__all__ = [
    "Check",
    "DownloadBody",
    "Health",
    "JobPage",
    "JobView",
    "LegacyJob",
    "Priority",
    "Readiness",
    "TranscriptionBody",
    "TranscriptionOptions",
    "WebhookUrl",
    "job_view",
    "legacy_job",
]


ModelName = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="A whisper model name such as tiny.en or large-v3 (never a server path)",
    ),
]
Language = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}$", description="e.g. en, de, zh")]
Priority = Annotated[
    int, msgspec.Meta(ge=MIN_PRIORITY, le=MAX_PRIORITY, description="1-10, higher runs first")
]
WebhookUrl = Annotated[
    str, msgspec.Meta(min_length=1, max_length=2000, description="An http(s) URL for webhooks")
]


class TranscriptionOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How to transcribe: what a client may choose."""

    language: Language | None = None
    """Spoken language; null detects it."""
    translate: bool = False
    """Render the speech in English."""
    beam_size: Annotated[int, msgspec.Meta(ge=1, le=10)] = 5
    vad_filter: bool = True
    """Skip silence with voice activity detection."""
    word_timestamps: bool = True
    prompt: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    """Initial prompt: names, jargon, spelling hints."""
    model: ModelName | None = None
    """null: the server's default model."""

    @classmethod
    def of(cls, options: TranscribeOptions) -> "TranscriptionOptions":
        """What a client asked for, as this body shows it back."""
        return cls(
            language=options.language,
            translate=options.task == "translate",
            beam_size=options.beam_size,
            vad_filter=options.vad_filter,
            word_timestamps=options.word_timestamps,
            prompt=options.initial_prompt,
            model=options.model,
        )

    def to_options(self) -> TranscribeOptions:
        """The pipeline's options for these choices."""
        return TranscribeOptions(
            language=self.language,
            task="translate" if self.translate else "transcribe",
            beam_size=self.beam_size,
            vad_filter=self.vad_filter,
            word_timestamps=self.word_timestamps,
            initial_prompt=self.prompt,
            model=self.model,
        )


class DownloadBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`POST /api/downloads`: what to fetch and what to make of it."""

    url: Annotated[str, msgspec.Meta(min_length=1, description="An http(s) URL of a page or file")]
    format: AudioFormat = AudioFormat.M4A
    quality: Quality = Quality.HIGH
    media: MediaKind = MediaKind.AUDIO
    transcribe: bool = False
    """Also transcribe the file (see `GET /api/jobs/{id}/transcript`)."""
    transcription: TranscriptionOptions | None = None
    priority: Priority = DEFAULT_PRIORITY
    """1-10, higher runs first; first come, first served within a level."""
    webhook_url: WebhookUrl | None = None
    """Also send this job's webhooks here (its secret: `GET /api/webhooks/endpoints`)."""
    max_bytes: Annotated[int, msgspec.Meta(ge=1)] | None = None
    """Fail with `too_large` past this many bytes; at most the `max_download_bytes` setting."""
    max_duration: Annotated[float, msgspec.Meta(gt=0)] | None = None
    """Fail with `too_long` when the media (or a live recording) runs longer, in seconds; at
    most the `max_duration` setting."""

    @classmethod
    def of(cls, request: JobRequest) -> "DownloadBody":
        """What a client asked for, as this body shows it back."""
        return cls(
            url=request.url,
            format=request.format,
            quality=request.quality,
            media=request.media,
            transcribe=request.transcribe,
            transcription=(
                TranscriptionOptions.of(request.transcription) if request.transcribe else None
            ),
            priority=request.priority,
            webhook_url=request.webhook_url,
            max_bytes=request.max_bytes,
            max_duration=request.max_duration,
        )

    def to_request(self) -> JobRequest:
        """The pipeline's request for this body."""
        options = self.transcription or TranscriptionOptions()
        return JobRequest(
            url=self.url,
            format=self.format,
            quality=self.quality,
            media=self.media,
            transcribe=self.transcribe,
            transcription=options.to_options(),
            priority=self.priority,
            webhook_url=self.webhook_url,
            max_bytes=self.max_bytes,
            max_duration=self.max_duration,
        )


class TranscriptionBody(TranscriptionOptions, frozen=True, kw_only=True):
    """`POST /api/transcriptions` as JSON: a URL, or the id of a job whose file to transcribe."""

    url: Annotated[str, msgspec.Meta(min_length=1)] | None = None
    job_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None


class JobView(msgspec.Struct, frozen=True, kw_only=True):
    """A job as clients see it: no server paths, links to its file and events instead."""

    id: str
    state: JobState
    platform: str
    request: DownloadBody
    created_at: float
    updated_at: float
    attempts: int
    media: MediaInfo | None
    error: JobError | None
    file_url: str | None
    """`/api/jobs/{id}/file` once the job has completed, else null."""
    events_url: str
    priority: int = DEFAULT_PRIORITY
    batch_id: str | None = None
    retry_at: float | None = None
    """While an automatic retry waits: when it may start (Unix time)."""
    gaps: tuple[Gap, ...] = ()
    """Stretches of the media (seconds from its start) missing from the file: HLS segments
    the site did not serve. Worth a warning wherever the job is shown."""


class JobPage(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /api/jobs`: one page of jobs, newest first."""

    jobs: list[JobView]
    total: int
    limit: int
    offset: int


class Health(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /api/health`: the process is up."""

    status: str
    version: str


class Check(msgspec.Struct, frozen=True, kw_only=True):
    """One readiness check."""

    ok: bool
    detail: str


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /api/ready`: whether every dependency is usable (503 when not)."""

    ready: bool
    checks: dict[str, Check]


class LegacyJob(msgspec.Struct, frozen=True, kw_only=True):
    """A job in the original tool's shape, for its `/api/download` routes."""

    job_id: str
    status: str
    """`pending`, `processing`, `completed`, `failed` or `cancelled`."""
    progress: float | None
    created_at: float
    download_url: str | None
    error: str | None


def job_view(job: Job) -> JobView:
    """The client's view of `job`."""
    request = job.request
    return JobView(
        id=job.id,
        state=job.state,
        platform=job.platform,
        request=DownloadBody.of(request),
        created_at=job.created_at,
        updated_at=job.updated_at,
        attempts=job.attempts,
        media=job.media,
        error=job.error,
        file_url=f"/api/jobs/{job.id}/file" if job.state is JobState.COMPLETED else None,
        events_url=f"/api/jobs/{job.id}/events",
        priority=request.priority,
        batch_id=job.batch_id,
        retry_at=job.retry_at,
        gaps=job.gaps,
    )


_LEGACY_STATUS = {
    JobState.QUEUED: "pending",
    JobState.DOWNLOADING: "processing",
    JobState.CONVERTING: "processing",
    JobState.TRANSCRIBING: "processing",
    JobState.COMPLETED: "completed",
    JobState.FAILED: "failed",
    JobState.CANCELLED: "cancelled",
}


def legacy_job(job: Job) -> LegacyJob:
    """The original tool's view of `job` (its progress was only ever 0 or 1)."""
    done = job.state is JobState.COMPLETED
    return LegacyJob(
        job_id=job.id,
        status=_LEGACY_STATUS[job.state],
        progress=1.0 if done else (0.0 if job.state is JobState.QUEUED else None),
        created_at=job.created_at,
        download_url=f"/api/download/{job.id}/file" if done else None,
        error=job.error.message if job.error is not None else None,
    )
