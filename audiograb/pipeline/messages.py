"""Commands the pipeline's actors exchange (imperative names; events are in `domain.events`).

These never leave the process, so besides plain data they carry a `Reply` to answer on, the
`threading.Event` that cancels the blocking work, and the callback that reports its progress.
"""

import threading
from collections.abc import Callable, Mapping
from pathlib import Path

import msgspec

from actors import Reply
from audiograb.domain import (
    AudioFormat,
    ConversionProgress,
    DownloadProgress,
    Job,
    JobEvent,
    Lease,
    MediaKind,
    Quality,
    Segment,
    TranscribeOptions,
    Transcript,
)
from audiograb.engines.ytdlp import DownloadOptions, DownloadResult
from audiograb.pipeline.resolving import Preparation
from audiograb.store import StoredEvent

#: An event as the journal stored it: `.id` is its place in the log of all jobs, `.event.seq`
#: its place in its job's log. What every subscriber receives.
Recorded = StoredEvent


class Record(msgspec.Struct, frozen=True, kw_only=True):
    """Append `event` to the job log (saving `job` in the same transaction), then publish it."""

    event: JobEvent
    job: Job | None = None
    lease: Lease | None = None
    """The writer's lease on the job: the store refuses the write once it is not the job's."""
    reply: Reply[Recorded] | None = None


class StartDownload(msgspec.Struct, frozen=True, kw_only=True):
    """Download `url` into `options.work_dir`; answer with the finished file."""

    job_id: str
    url: str
    options: DownloadOptions
    on_progress: Callable[[DownloadProgress], None]
    cancel: threading.Event
    reply: Reply[DownloadResult]
    preparation: Preparation | None = None
    """Resolver, cookies and cover fetching for this job; None: yt-dlp on `url`, nothing else."""


class Converted(msgspec.Struct, frozen=True, kw_only=True):
    """What a conversion produced."""

    path: Path
    size_bytes: int
    duration: float | None
    stream_copy: bool


class StartConversion(msgspec.Struct, frozen=True, kw_only=True):
    """Convert `source` into `dest`, copying streams whenever the codec already fits."""

    source: Path
    dest: Path
    format: AudioFormat
    quality: Quality
    media: MediaKind
    tags: Mapping[str, str]
    on_progress: Callable[[ConversionProgress], None]
    cancel: threading.Event
    reply: Reply[Converted]
    cover: Path | None = None
    """A picture to embed as cover art where the format holds one."""


class StartTranscription(msgspec.Struct, frozen=True, kw_only=True):
    """Transcribe `source` from `start_at` seconds on, numbering segments from `first_index`.

    `on_segment` runs in the worker thread and may block: that is how each segment is stored
    before whisper moves on, so the checkpoint never lags behind the work.
    """

    source: Path
    options: TranscribeOptions
    start_at: float
    first_index: int
    on_segment: Callable[[Segment, float | None], None]
    cancel: threading.Event
    reply: Reply[Transcript]
