"""One job's run, phase by phase: download, convert, transcribe, complete (or fail or stop).

The runner records each step through the journal before moving on, so a process killed at any
point restarts the job from its last completed phase: a job whose download finished (its
`download_path` still on disk) goes straight to conversion.

Every write of a run carries the run's lease. When the store refuses one (`LeaseLost`: the
lease lapsed and another process took the job over), the run stops at once and records
nothing more: the job is the new owner's.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import anyio
import msgspec

from actors import ActorRef, Reply, ThreadBridge
from audiograb.config import Settings
from audiograb.domain import (
    AudiograbError,
    ConversionProgressed,
    DownloadGapsFound,
    DownloadProgressed,
    ErrorCode,
    Job,
    JobCancelled,
    JobCompleted,
    JobEvent,
    JobFailed,
    JobState,
    JobStateChanged,
    Lease,
    LeaseLost,
    MediaInfo,
    MediaResolved,
    Segment,
    Transcript,
    TranscriptFormat,
    TranscriptSegmentAdded,
    describe_gaps,
    missing_seconds,
    render,
)
from audiograb.engines import ffmpeg, ytdlp
from audiograb.pipeline import resolving
from audiograb.pipeline.asking import ask_cancellably
from audiograb.pipeline.messages import (
    Converted,
    Record,
    StartConversion,
    StartDownload,
    StartTranscription,
)
from audiograb.pipeline.policy import address_policy, caps_for, download_options
from audiograb.pipeline.public import public_error
from audiograb.pipeline.retries import RetryPolicy
from audiograb.pipeline.transcripts import segments_of, transcript_of
from audiograb.pipeline.workspace import Workspace
from audiograb.platforms import PlatformRegistry
from audiograb.storage import LocalFiles, OutputFiles
from audiograb.store import JobLog

_log = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M")

#: Seconds the last writes of a cancelled job may take.
RECORD_DEADLINE = 15.0


class Stages(msgspec.Struct, frozen=True, kw_only=True):
    """The actors a job run talks to."""

    journal: ActorRef[Record]
    downloader: ActorRef[StartDownload]
    converter: ActorRef[StartConversion]
    transcriber: ActorRef[StartTranscription]


class JobRunner:
    """Drives jobs through their phases; one instance serves every job of an `Audiograb`."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: JobLog,
        stages: Stages,
        workspace: Workspace,
        registry: PlatformRegistry,
        bridge: ThreadBridge,
        retries: RetryPolicy | None = None,
        outputs: OutputFiles | None = None,
    ) -> None:
        self._settings = settings
        self._outputs = outputs or LocalFiles()
        self._store = store
        self._stages = stages
        self._workspace = workspace
        self._registry = registry
        self._bridge = bridge
        self._retries = retries

    async def record(
        self, event: JobEvent, job: Job | None = None, lease: Lease | None = None
    ) -> None:
        """Store `event` (and `job` with it) before going on; survives cancellation.

        With `lease`, only while it is the job's lease (else `LeaseLost`); without, only while
        no process runs the job (else `job_running`).
        """
        with anyio.CancelScope(shield=True), anyio.move_on_after(RECORD_DEADLINE):
            await self._stages.journal.ask(
                lambda reply: Record(event=event, job=job, lease=lease, reply=reply),
                timeout=None,
            )

    async def run(
        self, job: Job, lease: Lease, *, cancelled_by_user: Callable[[], bool]
    ) -> Job | None:
        """Run `job` under `lease` to its end and return it in its final state.

        On cancellation the job is marked cancelled (and its work folder removed) only when
        `cancelled_by_user()` says so; a shutdown leaves it as it is, to resume next start.
        None when the lease was lost: the job is no longer this run's to finish.
        Nothing but cancellation leaves this method: a failed phase fails the job, and a write
        that fails while recording the end (a full disk) is logged, so whatever runs jobs
        never crashes because of one.
        """
        run = _Run(job, lease)
        try:
            try:
                await self._phases(run)
            except AudiograbError as error:
                if not await self._retry_later(run, error):
                    await self._end(run, JobState.FAILED, error)
            except anyio.get_cancelled_exc_class():
                if cancelled_by_user():
                    await self._end(run, JobState.CANCELLED)
                raise
            except LeaseLost:
                raise
            except Exception as error:  # a bug must fail the job, not the scheduler
                failure = AudiograbError(ErrorCode.INTERNAL, repr(error))
                await self._end(run, JobState.FAILED, failure)
        except LeaseLost:
            _log.warning("job %s: lease lost, stopped", job.id, extra={"job_id": job.id})
            return None
        return run.job

    async def _retry_later(self, run: _Run, error: AudiograbError) -> bool:
        """Queue the job again after a transient failure, if the retry policy allows one.

        The work folder stays: a download may resume from its partial files.
        """
        planned = self._retries.plan(run.job, error) if self._retries is not None else None
        if planned is None:
            return False
        queued, event = planned
        _log.warning(
            "job %s failed [%s], retry %d at %.0f: %s",
            queued.id,
            error.code.value,
            event.retry,
            event.retry_at,
            error.message,
            extra={"job_id": queued.id},
        )
        if not await self._record_end(event, queued, run.lease):
            return False  # then it fails for good, if even that can be recorded
        run.job = queued
        return True

    async def cancel_claimed(self, job: Job, lease: Lease) -> Job:
        """Record as cancelled a job claimed only to cancel it, and remove its work folder."""
        run = _Run(job, lease)
        await self._end(run, JobState.CANCELLED)
        return run.job

    async def _phases(self, run: _Run) -> None:
        request = run.job.request
        if not (request.keep_media and _still_there(run.job.output_path)):
            if run.job.source_file and not _still_there(run.job.source_file):
                raise AudiograbError(ErrorCode.FILE_NOT_FOUND, f"{run.job.source_file} is gone")
            if not _still_there(_source(run.job)):
                await self._move(run, JobState.DOWNLOADING, download_path=None)
                await self._download(run)
            if request.keep_media:
                await self._move(run, JobState.CONVERTING)
                await self._convert(run)
        if request.transcribe:
            await self._move(run, JobState.TRANSCRIBING)
            await self._transcribe(run)
        await self._complete(run)

    async def _move(self, run: _Run, state: JobState, **changes: object) -> None:
        run.job.state.check_move_to(state)
        previous = run.job.state
        _log.info("job %s is %s", run.job.id, state.value, extra={"job_id": run.job.id})
        run.job = msgspec.structs.replace(run.job, state=state, **changes)
        await self.record(
            JobStateChanged(job_id=run.job.id, state=state, previous=previous), run.job, run.lease
        )

    async def _download(self, run: _Run) -> None:
        """Resolve (where the platform needs it) and download, then record the media."""
        job = run.job
        matched = self._registry.match(job.request.url, playlist=job.request.playlist)
        preparation = resolving.preparation_for(
            self._settings,
            matched,
            self._registry.resolver_for(matched.platform.id),
            address_policy(self._settings),
        )
        options = download_options(
            self._settings,
            matched,
            self._workspace.job_dir(job.id),
            media=job.request.media,
            playlist=job.request.playlist,
            caps=caps_for(self._settings, job.request),
        )
        result: ytdlp.DownloadResult = await self._ask_stage(
            run,
            self._stages.downloader,
            lambda reply, cancel: StartDownload(
                job_id=job.id,
                url=matched.url,
                options=options,
                on_progress=lambda p: self._offer(
                    run, DownloadProgressed(job_id=job.id, progress=p)
                ),
                cancel=cancel,
                reply=reply,
                preparation=preparation,
            ),
        )
        run.job = msgspec.structs.replace(
            job, media=result.media, download_path=str(result.path), gaps=result.gaps
        )
        await self.record(MediaResolved(job_id=job.id, media=result.media), run.job, run.lease)
        if result.gaps:
            _log.warning("job %s: %s", job.id, describe_gaps(result.gaps), extra={"job_id": job.id})
            missing = missing_seconds(result.gaps)
            await self.record(
                DownloadGapsFound(job_id=job.id, gaps=result.gaps, missing=missing),
                run.job,
                run.lease,
            )

    async def _convert(self, run: _Run) -> None:
        job = run.job
        request = job.request
        converted: Converted = await self._ask_stage(
            run,
            self._stages.converter,
            lambda reply, cancel: StartConversion(
                source=Path(_source(job) or ""),
                dest=self._destination(job),
                format=request.format,
                quality=request.quality,
                media=request.media,
                tags=ffmpeg.tags_for(job.media, request.url) if job.media else {},
                on_progress=lambda p: self._offer(
                    run, ConversionProgressed(job_id=job.id, progress=p)
                ),
                cancel=cancel,
                reply=reply,
                cover=resolving.cover_in(self._workspace.job_dir(job.id)),
            ),
        )
        media = job.media or MediaInfo()
        if media.duration is None:
            media = msgspec.structs.replace(media, duration=converted.duration)
        run.job = msgspec.structs.replace(job, output_path=str(converted.path), media=media)

    async def _transcribe(self, run: _Run) -> None:
        """Transcribe from the checkpoint on, storing each segment before whisper goes on."""
        job = run.job
        done = segments_of(await self._store.events_after(job.id), job.attempts)

        def store_segment(segment: Segment, percent: float | None) -> None:
            event = TranscriptSegmentAdded(
                job_id=job.id, segment=segment, percent=percent, attempt=job.attempts
            )
            anyio.from_thread.run(self.record, event, None, run.lease)

        source = job.output_path if job.request.keep_media else _source(job)
        transcript: Transcript = await self._ask_stage(
            run,
            self._stages.transcriber,
            lambda reply, cancel: StartTranscription(
                source=Path(source or ""),
                options=job.request.transcription,
                start_at=done[-1].end if done else 0.0,
                first_index=done[-1].index + 1 if done else 0,
                on_segment=store_segment,
                cancel=cancel,
                reply=reply,
            ),
        )
        media = job.media or MediaInfo()
        if media.duration is None:  # a local file, an upload, or a site that did not say
            media = msgspec.structs.replace(media, duration=transcript.duration)
        run.job = msgspec.structs.replace(
            job,
            media=media,
            transcript_language=transcript.language,
            transcript_language_probability=transcript.language_probability,
            transcript_model=transcript.model,
        )

    async def _complete(self, run: _Run) -> None:
        """Record the end: the media file, or for a transcript-only job the transcript file."""
        job = run.job
        if job.output_path is None or not job.request.keep_media:
            log = await self._store.events_after(job.id)
            path = self._destination(job, extension="json")
            await anyio.Path(path).parent.mkdir(parents=True, exist_ok=True)
            await anyio.Path(path).write_text(
                render(transcript_of(job, log), TranscriptFormat.JSON), encoding="utf-8"
            )
            job = msgspec.structs.replace(job, output_path=str(path))
        output = anyio.Path(job.output_path or "")
        await self._outputs.publish(job)  # before job.completed: then any node can serve it
        run.job = msgspec.structs.replace(job, state=JobState.COMPLETED, error=None)
        duration = job.media.duration if job.media else None
        if duration is not None and job.gaps:  # the media's length, less what never came
            duration = max(0.0, duration - missing_seconds(job.gaps))
        completed = JobCompleted(
            job_id=job.id,
            output_path=str(output),
            size_bytes=(await output.stat()).st_size,
            duration=duration,
            gaps=job.gaps,
        )
        await self.record(completed, run.job, run.lease)
        _log.info("job %s completed: %s", job.id, output, extra={"job_id": job.id})
        self._workspace.discard(job.id)

    def _destination(self, job: Job, extension: str | None = None) -> Path:
        folder = Path(job.output_dir) if job.output_dir else None
        if job.output_name:
            return (folder or self._workspace.output_root) / job.output_name
        title = job.media.title if job.media else None
        extension = extension or job.request.format.value
        return self._workspace.output_path(title, job.id, extension, folder=folder)

    async def _ask_stage(
        self,
        run: _Run,
        stage: ActorRef[M],
        make: Callable[[Reply[T], threading.Event], M],
    ) -> T:
        """Ask a stage for the phase's work, accepting its progress only while we wait.

        So a late progress event never lands in the log after the phase's outcome.
        """
        run.progress_open = True
        try:
            return await ask_cancellably(stage, make)
        finally:
            run.progress_open = False

    def _offer(self, run: _Run, event: JobEvent) -> None:
        """Called from a worker thread: hand progress to the journal without ever waiting."""
        self._bridge.call_soon(self._deliver_progress, run, event)

    def _deliver_progress(self, run: _Run, event: JobEvent) -> None:
        if run.progress_open:
            self._stages.journal.try_tell(Record(event=event, lease=run.lease))

    def _server_folders(self) -> list[Path]:
        """Folders whose paths clients must not see in an error message."""
        settings = self._settings
        folders = [settings.data_dir, settings.work_root, settings.output_root]
        return [*folders, *(folder.resolve() for folder in folders)]

    async def _end(self, run: _Run, state: JobState, error: AudiograbError | None = None) -> None:
        """Record a failed or cancelled end and remove the job's work folder.

        When the record cannot be written (a full disk), the folder goes first and the record
        is tried once more: the folder is what frees the room. A lost lease keeps the folder,
        which the job's new owner is using.
        """
        job = run.job
        event: JobEvent
        if error is not None:
            public = public_error(error, job, self._server_folders()).to_job_error()
            run.job = msgspec.structs.replace(job, state=state, error=public)
            event = JobFailed(job_id=job.id, error=public)
            _log.warning(
                "job %s failed [%s]: %s",
                job.id,
                error.code.value,
                error.message,
                extra={"job_id": job.id},
            )
        else:
            run.job = msgspec.structs.replace(job, state=state)
            event = JobCancelled(job_id=job.id)
        if not await self._record_end(event, run.job, run.lease):
            # A full disk, say: the work folder is what frees the room the record needs.
            self._workspace.discard(job.id)
            await self._record_end(event, run.job, run.lease)
        self._workspace.discard(job.id)

    async def _record_end(self, event: JobEvent, job: Job, lease: Lease | None) -> bool:
        """Record how a run ended; a failed write is logged, not raised (a lost lease is).
        Whether it was stored."""
        try:
            await self.record(event, job, lease)
        except LeaseLost:
            raise
        except Exception as error:
            _log.error(
                "job %s: cannot record %s: %s",
                job.id,
                event.__struct_config__.tag,
                error,
                extra={"job_id": job.id},
            )
            return False
        return True


class _Run:
    """The latest state of one running job, and whether its progress is still wanted."""

    __slots__ = ("job", "lease", "progress_open")

    def __init__(self, job: Job, lease: Lease) -> None:
        self.job = job
        self.lease = lease
        self.progress_open = False


def _source(job: Job) -> str | None:
    """The media the job works from: the user's own file, or what it downloaded."""
    return job.source_file or job.download_path


def _still_there(path: str | None) -> bool:
    return path is not None and Path(path).is_file()
